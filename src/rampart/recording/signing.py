"""The server's recording signing key: an Ed25519 key in a PEM file, created on first use.

The key file is created with mode 0600 in a directory of mode 0700; a key file readable by group or
others is refused. `key_id` names a public key (sha256 of its raw bytes) inside signed end records.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rampart.errors import RecordingError


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key stored at `path`, creating it (0600, parent 0700) when the file does not exist."""
    if not path.exists():
        try:
            _create(path)
        except FileExistsError:
            pass  # another process created it first
        except OSError as exc:
            raise RecordingError(f"cannot create recording signing key {path}: {exc.strerror}") from None
    try:
        return _load(path)
    except OSError as exc:
        raise RecordingError(f"cannot read recording signing key {path}: {exc.strerror}") from None


def key_id(public_key: Ed25519PublicKey) -> str:
    """The sha256 hex digest of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """The public key as PEM (SubjectPublicKeyInfo), for handing to verifiers."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes; anything else raises `RecordingError`."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise RecordingError("recording public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise RecordingError("recording public key is not an Ed25519 key")
    return key


def _load(path: Path) -> Ed25519PrivateKey:
    with path.open("rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        data = fh.read(64 * 1024)
    if stat.S_IMODE(mode) & 0o077:
        raise RecordingError(f"recording signing key {path} is readable by others; chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise RecordingError(f"recording signing key {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RecordingError(f"recording signing key {path} is not an Ed25519 key")
    return key


def _create(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
        path.parent.chmod(0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
