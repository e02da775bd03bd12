"""The fim signing keys: an Ed25519 pair that signs baselines and acceptance log lines.

The private key is needed only to make a baseline (``fim init``, ``fim update``) and may live on removable
media; a check needs only the public key. Both are PEM files; the private key file must be mode 0600 (a key
readable by group or others is refused). A key is named by its ``key_id``: the first 16 hex digits of the
SHA-256 of the raw 32-byte public key, written in every baseline's header and trailer.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rampart.errors import BaselineRefused, FimError

MAX_KEY_FILE = 64 * 1024
SIGNATURE_SIZE = 64
KEY_ID_LENGTH = 16


def default_key_dir() -> Path:
    """``/etc/rampart/fim`` for root, ``~/.config/rampart/fim`` for anyone else."""
    if os.geteuid() == 0:
        return Path("/etc/rampart/fim")
    return Path.home() / ".config" / "rampart" / "fim"


def default_signing_key() -> Path:
    return default_key_dir() / "signing.key"


def default_verify_key() -> Path:
    return default_key_dir() / "signing.pub"


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


class Signer:
    """Signs with a loaded private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def verifier(self) -> Verifier:
        """The matching verifier (to check what was just signed)."""
        return Verifier(self._key.public_key())


class Verifier:
    """Verifies with a loaded public key; every failure is a `BaselineRefused`."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._key = public_key
        self.key_id = key_id(public_key)

    def verify(self, data: bytes, signature: bytes) -> None:
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            raise BaselineRefused(
                "baseline REFUSED: signature does not match (edited, truncated or signed by another key)"
                " — do not trust this host's files until you know why"
            ) from None


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (private 0600 in a 0700 directory, public 0644); refuse to overwrite. The key id."""
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise FimError(f"{path} already exists; refusing to overwrite a signing key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except FimError:
        private_path.unlink()
        raise
    return key_id(key.public_key())


def load_signer(path: Path) -> Signer:
    """The private key at `path`; `FimError` when unreadable, readable by others, or not Ed25519."""
    data, mode = _read_key_file(path, "signing key")
    if stat.S_IMODE(mode) & 0o077:
        raise FimError(f"signing key {path} is readable by group or others; chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise FimError(f"signing key {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise FimError(f"signing key {path} is not an Ed25519 key")
    return Signer(key)


def load_verifier(path: Path) -> Verifier:
    """The public key at `path`; `FimError` when unreadable or not an Ed25519 PEM public key."""
    data, _ = _read_key_file(path, "verify key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise FimError(f"verify key {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise FimError(f"verify key {path} is not an Ed25519 key")
    return Verifier(key)


def _read_key_file(path: Path, what: str) -> tuple[bytes, int]:
    try:
        with path.open("rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            data = fh.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise FimError(f"cannot read {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise FimError(f"{what} {path} is not a regular file")
    if len(data) > MAX_KEY_FILE:
        raise FimError(f"{what} {path} is too large to be a key")
    return data, mode


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except FileExistsError:
        raise FimError(f"{path} already exists; refusing to overwrite a signing key") from None
    except OSError as exc:
        raise FimError(f"cannot write {path}: {exc.strerror}") from None
