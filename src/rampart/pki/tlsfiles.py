"""The server's TLS files at start-up: `ensure_server_tls` creates, reuses or renews them.

Layout under the data directory (``pki/``, mode 0700)::

    ca.crt  ca.key          the rampart CA (signs agent certificates; created once, kept forever)
    server.crt server.key   the TLS server certificate, signed by the CA

The CA always exists, since agents need it even when the operator brings their own server
certificate. Without operator files the server certificate is issued at first start and renewed
when fewer than 30 days remain, when the configured names change or when it was not signed by the
current CA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from rampart.errors import CertificateRejected, PkiError, UsageError
from rampart.pki import extensions, files, keys
from rampart.pki.ca import CERT_FILE, CertificateAuthority
from rampart.pki.pem import load_certificate

PKI_DIR = "pki"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"
RENEW_BEFORE = timedelta(days=30)
CA_NAME = "rampart CA"


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the CA certificate, the server certificate and the server key to serve with."""

    ca_cert: Path
    cert: Path
    key: Path


def pki_dir(data_dir: Path) -> Path:
    """The directory holding the CA and the generated server certificate."""
    return data_dir / PKI_DIR


def ensure_ca(data_dir: Path, now: datetime) -> CertificateAuthority:
    """Load the CA from the data directory, creating and saving it on first use."""
    directory = pki_dir(data_dir)
    if not (directory / CERT_FILE).exists():
        ca = CertificateAuthority.create(CA_NAME, now)
        ca.save(directory)
        return ca
    return CertificateAuthority.load(directory)


def ensure_server_tls(
    data_dir: Path,
    names: Sequence[str],
    now: datetime,
    *,
    cert: Path | None = None,
    key: Path | None = None,
) -> TlsFiles:
    """The TLS files to serve with: the operator's ``cert``/``key`` if given, else rampart's own."""
    if now.tzinfo is None:
        raise UsageError("times given to the CA must be timezone-aware")
    ca = ensure_ca(data_dir, now)
    ca_cert = pki_dir(data_dir) / CERT_FILE
    if cert is not None or key is not None:
        return _operator_files(ca_cert, cert, key)
    directory = pki_dir(data_dir)
    if _needs_new_certificate(ca, directory / SERVER_CERT, list(names), now):
        _issue(ca, directory, list(names), now)
    return TlsFiles(ca_cert=ca_cert, cert=directory / SERVER_CERT, key=directory / SERVER_KEY)


def _operator_files(ca_cert: Path, cert: Path | None, key: Path | None) -> TlsFiles:
    if cert is None or key is None:
        raise UsageError("give both a TLS certificate and its key, or neither")
    try:
        cert_data = files.read_limited(cert, keys.MAX_PEM, private=False)
        key_data = files.read_limited(key, keys.MAX_PEM, private=True)
        server_cert = load_certificate(cert_data, f"TLS certificate {cert}")
    except (OSError, ValueError, CertificateRejected) as exc:
        raise PkiError(f"cannot use the given TLS files: {exc}") from exc
    if not keys.same_public_key(server_cert.public_key(), keys.load_private_key(key_data).public_key()):
        raise PkiError(f"TLS key {key} does not match certificate {cert}")
    return TlsFiles(ca_cert=ca_cert, cert=cert, key=key)


def _needs_new_certificate(ca: CertificateAuthority, path: Path, names: list[str], now: datetime) -> bool:
    try:
        current = load_certificate(files.read_limited(path, keys.MAX_PEM, private=False))
        current.verify_directly_issued_by(ca.certificate)
    except (OSError, ValueError, TypeError, InvalidSignature, CertificateRejected):
        return True
    if current.not_valid_after_utc - now < RENEW_BEFORE:
        return True
    return _names(current) != {extensions.general_name(name) for name in names}


def _names(cert: x509.Certificate) -> set[x509.GeneralName]:
    try:
        return set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (x509.ExtensionNotFound, ValueError):
        return set()


def _issue(ca: CertificateAuthority, directory: Path, names: list[str], now: datetime) -> None:
    cert_pem, key_pem = ca.issue_server_certificate(names, now)
    files.write_atomic(directory / SERVER_KEY, key_pem, files.PRIVATE_FILE)
    files.write_atomic(directory / SERVER_CERT, cert_pem, files.PUBLIC_FILE)
