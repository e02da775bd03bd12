"""Token building blocks: random ids and secrets, and strict unpadded URL-safe base64 (RFC 4648 section 5)."""

from __future__ import annotations

import base64
import binascii
import re
import secrets

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
SECRET_BYTES = 32


def new_token_id() -> str:
    """A fresh random token id: 16 lower-case hex digits."""
    return secrets.token_hex(8)


def new_secret() -> str:
    """A fresh secret: 32 random bytes in unpadded URL-safe base64 (43 characters)."""
    return encode(secrets.token_bytes(SECRET_BYTES))


def is_secret(text: str) -> bool:
    """True when ``text`` is exactly the canonical encoding of 32 bytes."""
    decoded = decode(text)
    return decoded is not None and len(decoded) == SECRET_BYTES


def encode(data: bytes) -> str:
    """``data`` as URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode(text: str) -> bytes | None:
    """The bytes ``text`` canonically encodes in unpadded URL-safe base64; None if it is not exactly that."""
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if encode(data) == text else None
