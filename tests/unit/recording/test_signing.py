"""The recording signing key: created once with safe modes, reused, refused when unsafe or not Ed25519."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import RecordingError
from rampart.recording.signing import key_id, load_or_create_signing_key, load_public_key, public_key_pem


def test_created_with_safe_modes_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "recording.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    second = load_or_create_signing_key(path)
    assert key_id(first.public_key()) == key_id(second.public_key())


def test_key_id_is_sha256_of_raw_public_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    raw = bytes.fromhex(
        "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
    )  # seed 0's public key
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()


def test_group_readable_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    load_or_create_signing_key(path)
    path.chmod(0o640)
    with pytest.raises(RecordingError, match="chmod 600"):
        load_or_create_signing_key(path)


@pytest.mark.parametrize(
    "content", [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]
)
def test_garbage_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(RecordingError):
        load_or_create_signing_key(path)


def test_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(RecordingError, match="not an Ed25519"):
        load_or_create_signing_key(path)


def test_uncreatable_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(RecordingError):
        load_or_create_signing_key(tmp_path / "file" / "k.pem")


def test_public_key_pem_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    assert key_id(load_public_key(public_key_pem(key.public_key()))) == key_id(key.public_key())
    with pytest.raises(RecordingError):
        load_public_key(b"nope")
    ec_pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(RecordingError):
        load_public_key(pem)
