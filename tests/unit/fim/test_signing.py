"""The fim signing keys: safe modes, never overwritten, refused when unsafe or not Ed25519; signatures verify."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import BaselineRefused, FimError
from rampart.fim import signing
from rampart.fim.signing import generate_keypair, key_id, load_signer, load_verifier


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "signing.key", tmp_path / "keys" / "signing.pub"
    generate_keypair(private, public)
    return private, public


def test_generated_pair_has_safe_modes_and_matching_ids(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    assert load_signer(private).key_id == load_verifier(public).key_id


def test_generate_returns_the_key_id(tmp_path: Path) -> None:
    kid = generate_keypair(tmp_path / "k", tmp_path / "k.pub")
    assert kid == load_verifier(tmp_path / "k.pub").key_id
    assert len(kid) == 16


def test_key_id_is_sha256_prefix_of_raw_public_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


@pytest.mark.parametrize("existing", ["private", "public"])
def test_generate_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    private, public = tmp_path / "k", tmp_path / "k.pub"
    target = private if existing == "private" else public
    target.write_bytes(b"keep me")
    with pytest.raises(FimError, match="refusing to overwrite"):
        generate_keypair(private, public)
    assert target.read_bytes() == b"keep me"
    assert not (public if existing == "private" else private).exists()


def test_generate_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "k").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FimError, match="refusing to overwrite"):
        generate_keypair(tmp_path / "k", tmp_path / "k.pub")
    assert not (tmp_path / "elsewhere").exists()


def test_signature_verifies_and_tampering_is_refused(keys: tuple[Path, Path]) -> None:
    signer, verifier = load_signer(keys[0]), load_verifier(keys[1])
    signature = signer.sign(b"payload")
    verifier.verify(b"payload", signature)
    with pytest.raises(BaselineRefused, match="REFUSED"):
        verifier.verify(b"payloaD", signature)
    with pytest.raises(BaselineRefused, match="REFUSED"):
        verifier.verify(b"payload", bytes([signature[0] ^ 1]) + signature[1:])


def test_other_key_is_refused(keys: tuple[Path, Path], tmp_path: Path) -> None:
    generate_keypair(tmp_path / "o.key", tmp_path / "o.pub")
    other = load_signer(tmp_path / "o.key")
    with pytest.raises(BaselineRefused):
        load_verifier(keys[1]).verify(b"x", other.sign(b"x"))


def test_signer_gives_its_own_verifier(keys: tuple[Path, Path]) -> None:
    signer = load_signer(keys[0])
    signer.verifier().verify(b"x", signer.sign(b"x"))
    assert signer.verifier().key_id == signer.key_id


def test_group_readable_private_key_is_refused(keys: tuple[Path, Path]) -> None:
    keys[0].chmod(0o640)
    with pytest.raises(FimError, match="chmod 600"):
        load_signer(keys[0])


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"A" * 70_000],
)
def test_garbage_key_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(FimError):
        load_signer(path)
    with pytest.raises(FimError):
        load_verifier(path)


def test_non_ed25519_keys_are_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "ec.key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private.chmod(0o600)
    public = tmp_path / "ec.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(FimError, match="not an Ed25519 key"):
        load_signer(private)
    with pytest.raises(FimError, match="not an Ed25519 key"):
        load_verifier(public)


def test_a_private_key_is_not_a_verify_key(keys: tuple[Path, Path]) -> None:
    with pytest.raises(FimError, match="not a PEM public key"):
        load_verifier(keys[0])


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_unreadable_key_paths_are_one_line_errors(tmp_path: Path, make: str) -> None:
    path = tmp_path / "k"
    if make == "directory":
        path.mkdir()
    with pytest.raises(FimError) as caught:
        load_verifier(path)
    assert "\n" not in caught.value.message
    assert str(path) in caught.value.message


def test_default_paths_for_root_and_others(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert signing.default_signing_key() == Path("/etc/rampart/fim/signing.key")
    assert signing.default_verify_key() == Path("/etc/rampart/fim/signing.pub")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert signing.default_signing_key() == tmp_path / ".config/rampart/fim/signing.key"
    assert signing.default_verify_key() == tmp_path / ".config/rampart/fim/signing.pub"
