"""The CA itself: creation, the extensions it carries, saving and loading with safe file modes."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from rampart.errors import PkiError, UsageError
from rampart.pki.ca import CertificateAuthority, fingerprint
from unit.pki.pki_helpers import NOW


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("algorithm", "key_type"), [("ec-p256", ec.EllipticCurvePublicKey), ("ed25519", ed25519.Ed25519PublicKey)]
)
def test_create_makes_a_self_signed_ca(algorithm: str, key_type: type) -> None:
    ca = CertificateAuthority.create("fleet CA", NOW, algorithm=algorithm)  # type: ignore[arg-type]
    cert = ca.certificate
    assert isinstance(cert.public_key(), key_type)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    cert.verify_directly_issued_by(cert)
    assert ca.not_after == NOW + timedelta(days=3650)


def test_sha256_is_the_fingerprint_of_the_pem(ca: CertificateAuthority) -> None:
    assert len(ca.sha256) == 64
    assert ca.sha256 == fingerprint(ca.certificate_pem) == fingerprint(ca.certificate_pem.encode())


def test_naive_time_is_refused() -> None:
    with pytest.raises(UsageError, match="timezone"):
        CertificateAuthority.create("x", datetime(2026, 1, 1))


@pytest.mark.parametrize("name", ["", "x" * 65])
def test_bad_common_name_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match="common name"):
        CertificateAuthority.create(name, NOW)


def test_save_and_load_round_trip_with_private_modes(ca: CertificateAuthority, tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    ca.save(directory)
    assert _mode(directory) == 0o700
    assert _mode(directory / "ca.key") == 0o600
    loaded = CertificateAuthority.load(directory)
    assert loaded.sha256 == ca.sha256
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_save_replaces_an_existing_ca(
    ca: CertificateAuthority, other_ca: CertificateAuthority, tmp_path: Path
) -> None:
    ca.save(tmp_path)
    other_ca.save(tmp_path)
    assert CertificateAuthority.load(tmp_path).sha256 == other_ca.sha256


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_load_refuses_a_key_readable_by_others(ca: CertificateAuthority, tmp_path: Path, mode: int) -> None:
    ca.save(tmp_path)
    (tmp_path / "ca.key").chmod(mode)
    with pytest.raises(PkiError, match=r"readable by others.*chmod 600"):
        CertificateAuthority.load(tmp_path)


def test_load_of_a_missing_ca_says_so(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="does not exist"):
        CertificateAuthority.load(tmp_path / "nothing")


def test_load_refuses_a_symlinked_key(ca: CertificateAuthority, tmp_path: Path) -> None:
    ca.save(tmp_path / "real")
    link_dir = tmp_path / "linked"
    link_dir.mkdir()
    (link_dir / "ca.crt").write_bytes((tmp_path / "real" / "ca.crt").read_bytes())
    os.symlink(tmp_path / "real" / "ca.key", link_dir / "ca.key")
    with pytest.raises(PkiError, match="cannot read"):
        CertificateAuthority.load(link_dir)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ca.crt", b"garbage", "not a readable PEM certificate"),
        ("ca.crt", b"", "not a readable PEM certificate"),
        ("ca.crt", b"A" * 70_000, "larger than"),
        ("ca.key", b"garbage", "private key is not a readable"),
    ],
)
def test_load_refuses_corrupt_files(
    ca: CertificateAuthority, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    ca.save(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(PkiError, match=message):
        CertificateAuthority.load(tmp_path)


def test_load_refuses_a_truncated_certificate(ca: CertificateAuthority, tmp_path: Path) -> None:
    ca.save(tmp_path)
    pem = (tmp_path / "ca.crt").read_bytes()
    (tmp_path / "ca.crt").write_bytes(pem[: len(pem) // 2])
    with pytest.raises(PkiError, match="not a readable PEM"):
        CertificateAuthority.load(tmp_path)


def test_load_refuses_a_key_of_another_ca(
    ca: CertificateAuthority, other_ca: CertificateAuthority, tmp_path: Path
) -> None:
    ca.save(tmp_path / "a")
    other_ca.save(tmp_path / "b")
    (tmp_path / "a" / "ca.key").write_bytes((tmp_path / "b" / "ca.key").read_bytes())
    with pytest.raises(PkiError, match="does not match"):
        CertificateAuthority.load(tmp_path / "a")


def test_a_leaf_certificate_is_not_a_ca(ca: CertificateAuthority) -> None:
    cert_pem, key_pem = ca.issue_server_certificate(["localhost"], NOW)
    from rampart.pki import keys
    from rampart.pki.pem import load_certificate

    with pytest.raises(PkiError, match="not a CA"):
        CertificateAuthority(load_certificate(cert_pem), keys.load_private_key(key_pem))


def test_rsa_key_file_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization

    from rampart.pki import keys
    from unit.pki.pki_helpers import rsa_key

    pem = rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(PkiError, match="RSA 2048 is not allowed"):
        keys.load_private_key(pem)
