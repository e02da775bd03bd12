"""Join tokens: the one-time credential an agent enrolls with, pinning the server's CA.

Wire form: ``rpj_`` + unpadded URL-safe base64 of the JSON object
``{"v": 1, "id": <16 hex>, "s": <secret>, "ca": "sha256:<64 hex>"}``. The agent uses ``ca`` to
check the CA the server presents before trusting it; the server stores only the secret's hash.
Parsing is strict: at most 1 KiB, exactly these keys, version 1, no duplicate keys, every value
of its exact shape. Errors never repeat the token.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rampart.auth.encoding import decode, encode, is_secret, new_secret, new_token_id
from rampart.errors import TokenFormatError, UsageError

JOIN_PREFIX = "rpj_"
MAX_WIRE = 1024
VERSION = 1
_KEYS = frozenset({"v", "id", "s", "ca"})
_ID = re.compile(r"[0-9a-f]{16}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CA_PREFIX = "sha256:"


@dataclass(frozen=True, repr=False)
class IssuedJoinToken:
    """A freshly issued join token: id, secret and the wire form handed to the operator once."""

    id: str
    secret: str
    wire: str

    def __repr__(self) -> str:
        return f"IssuedJoinToken(id={self.id!r}, secret=<hidden>)"


@dataclass(frozen=True, repr=False)
class JoinClaims:
    """What a join token carries: its id, its secret and the SHA-256 (hex) of the CA to trust."""

    id: str
    secret: str
    ca_sha256: str

    def __repr__(self) -> str:
        return f"JoinClaims(id={self.id!r}, ca_sha256={self.ca_sha256!r}, secret=<hidden>)"


def issue_join_token(ca_sha256: str) -> IssuedJoinToken:
    """A new join token pinning the CA whose certificate DER hashes to ``ca_sha256`` (hex)."""
    if not _SHA256.fullmatch(ca_sha256):
        raise UsageError("ca_sha256 must be 64 lower-case hex digits")
    token_id, secret = new_token_id(), new_secret()
    body = {"v": VERSION, "id": token_id, "s": secret, "ca": _CA_PREFIX + ca_sha256}
    payload = json.dumps(body, separators=(",", ":")).encode("ascii")
    return IssuedJoinToken(id=token_id, secret=secret, wire=JOIN_PREFIX + encode(payload))


def parse_join_token(wire: str) -> JoinClaims:
    """The claims of a wire-form join token; TokenFormatError naming the first problem."""
    if len(wire) > MAX_WIRE:
        raise TokenFormatError(f"join token is longer than {MAX_WIRE} characters")
    if not wire.startswith(JOIN_PREFIX):
        raise TokenFormatError("not a rampart join token (expected rpj_...)")
    body = _json_object(wire.removeprefix(JOIN_PREFIX))
    return _claims(body)


def _json_object(encoded: str) -> dict[str, Any]:
    raw = decode(encoded)
    if raw is None:
        raise TokenFormatError("join token is not valid base64url")
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise TokenFormatError("join token does not hold valid JSON") from exc
    if not isinstance(body, dict):
        raise TokenFormatError("join token does not hold a JSON object")
    return body


def _claims(body: dict[str, Any]) -> JoinClaims:
    if set(body) != _KEYS:
        raise TokenFormatError("join token must have exactly the keys v, id, s, ca")
    if type(body["v"]) is not int or body["v"] != VERSION:
        raise TokenFormatError(f"unsupported join token version (expected {VERSION})")
    token_id, secret, ca = body["id"], body["s"], body["ca"]
    if not (isinstance(token_id, str) and _ID.fullmatch(token_id)):
        raise TokenFormatError("join token id must be 16 lower-case hex digits")
    if not (isinstance(secret, str) and is_secret(secret)):
        raise TokenFormatError("join token secret is malformed")
    if not (
        isinstance(ca, str) and ca.startswith(_CA_PREFIX) and _SHA256.fullmatch(ca.removeprefix(_CA_PREFIX))
    ):
        raise TokenFormatError("join token CA pin must be sha256:<64 lower-case hex digits>")
    return JoinClaims(id=token_id, secret=secret, ca_sha256=ca.removeprefix(_CA_PREFIX))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")
