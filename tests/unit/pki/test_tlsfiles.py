"""Server TLS files: created at first start, reused, renewed near expiry or on new names, or the operator's own."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509

from rampart.errors import PkiError, UsageError
from rampart.pki.ca import CertificateAuthority
from rampart.pki.pem import load_certificate
from rampart.pki.tlsfiles import ensure_ca, ensure_server_tls
from unit.pki.pki_helpers import NOW

NAMES = ["rampart.test", "127.0.0.1"]


def _serial(path: Path) -> int:
    return load_certificate(path.read_bytes()).serial_number


def test_first_start_creates_ca_and_server_certificate(tmp_path: Path) -> None:
    files = ensure_server_tls(tmp_path, NAMES, NOW)
    assert files.ca_cert == tmp_path / "pki" / "ca.crt"
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700
    cert = load_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(load_certificate(files.ca_cert.read_bytes()))
    assert len(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value) == 2


def test_second_start_reuses_everything(tmp_path: Path) -> None:
    first = ensure_server_tls(tmp_path, NAMES, NOW)
    serial, ca_pem = _serial(first.cert), first.ca_cert.read_bytes()
    second = ensure_server_tls(tmp_path, list(reversed(NAMES)), NOW + timedelta(days=300))
    assert _serial(second.cert) == serial
    assert second.ca_cert.read_bytes() == ca_pem


def test_renews_when_fewer_than_30_days_remain(tmp_path: Path) -> None:
    serial = _serial(ensure_server_tls(tmp_path, NAMES, NOW).cert)
    renewed = ensure_server_tls(tmp_path, NAMES, NOW + timedelta(days=368))
    assert _serial(renewed.cert) != serial
    assert load_certificate(renewed.cert.read_bytes()).not_valid_after_utc > NOW + timedelta(days=700)


def test_renews_when_names_change(tmp_path: Path) -> None:
    serial = _serial(ensure_server_tls(tmp_path, NAMES, NOW).cert)
    assert _serial(ensure_server_tls(tmp_path, [*NAMES, "other.test"], NOW).cert) != serial


@pytest.mark.parametrize("content", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_reissues_a_corrupt_server_certificate(tmp_path: Path, content: bytes) -> None:
    files = ensure_server_tls(tmp_path, NAMES, NOW)
    files.cert.write_bytes(content)
    again = ensure_server_tls(tmp_path, NAMES, NOW)
    load_certificate(again.cert.read_bytes()).verify_directly_issued_by(ensure_ca(tmp_path, NOW).certificate)


def test_reissues_a_certificate_from_a_replaced_ca(tmp_path: Path) -> None:
    files = ensure_server_tls(tmp_path, NAMES, NOW)
    CertificateAuthority.create("new CA", NOW).save(tmp_path / "pki")
    again = ensure_server_tls(tmp_path, NAMES, NOW)
    load_certificate(again.cert.read_bytes()).verify_directly_issued_by(
        load_certificate(files.ca_cert.read_bytes())
    )


def _operator_files(tmp_path: Path) -> tuple[Path, Path]:
    cert_pem, key_pem = CertificateAuthority.create("corp", NOW).issue_server_certificate(["corp.test"], NOW)
    cert, key = tmp_path / "own.crt", tmp_path / "own.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    key.chmod(0o600)
    return cert, key


def test_operator_files_are_used_and_the_ca_still_exists(tmp_path: Path) -> None:
    cert, key = _operator_files(tmp_path)
    files = ensure_server_tls(tmp_path / "data", NAMES, NOW, cert=cert, key=key)
    assert (files.cert, files.key) == (cert, key)
    assert files.ca_cert.exists()
    assert not (tmp_path / "data" / "pki" / "server.crt").exists()


def test_operator_must_give_both_files(tmp_path: Path) -> None:
    cert, _ = _operator_files(tmp_path)
    with pytest.raises(UsageError, match="both"):
        ensure_server_tls(tmp_path / "data", NAMES, NOW, cert=cert)


def test_operator_key_must_match_and_be_private(tmp_path: Path) -> None:
    cert, key = _operator_files(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = _operator_files(tmp_path / "other")
    with pytest.raises(PkiError, match="does not match"):
        ensure_server_tls(tmp_path / "data", NAMES, NOW, cert=cert, key=other_key)
    key.chmod(0o644)
    with pytest.raises(PkiError, match="readable by others"):
        ensure_server_tls(tmp_path / "data", NAMES, NOW, cert=cert, key=key)


def test_operator_files_that_do_not_exist(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="cannot use the given TLS files"):
        ensure_server_tls(tmp_path, NAMES, NOW, cert=tmp_path / "no.crt", key=tmp_path / "no.key")
