"""Checking an agent certificate against the CA that should have issued it: `check_agent_certificate`.

Each check fails with its own `CertificateRejected` message: unreadable, issued by another CA or
badly signed, not yet valid, expired, a CA certificate, missing clientAuth, missing or malformed
host identity, key type not allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rampart.errors import CertificateRejected, PkiError
from rampart.pki import keys
from rampart.pki.extensions import HOST_URI_PREFIX
from rampart.pki.pem import load_certificate

HOST_ID = re.compile(r"h-[0-9a-f]{16}")


@dataclass(frozen=True)
class AgentCertificate:
    """What a verified agent certificate says: whose it is, its serial (hex), key and validity."""

    host_id: str
    serial_hex: str
    public_key: keys.PublicKey
    not_before: datetime
    not_after: datetime


def check_agent_certificate(ca: x509.Certificate, cert_pem: bytes | str, now: datetime) -> AgentCertificate:
    """Verify ``cert_pem`` as an agent certificate issued by ``ca`` and valid at ``now``."""
    cert = load_certificate(cert_pem, "agent certificate")
    _check_issuer(ca, cert)
    _check_validity(cert, now)
    _check_usage(cert)
    host_id = _host_id(cert)
    return AgentCertificate(
        host_id=host_id,
        serial_hex=format(cert.serial_number, "x"),
        public_key=_public_key(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def _check_issuer(ca: x509.Certificate, cert: x509.Certificate) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateRejected("agent certificate was not issued by this server's CA") from exc


def _check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateRejected(
            f"agent certificate is not valid before {cert.not_valid_before_utc.isoformat()}"
        )
    if now > cert.not_valid_after_utc:
        raise CertificateRejected(f"agent certificate expired at {cert.not_valid_after_utc.isoformat()}")


def _check_usage(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError) as exc:
        raise CertificateRejected("agent certificate lacks basicConstraints or extendedKeyUsage") from exc
    if constraints.ca:
        raise CertificateRejected("a CA certificate cannot be used as an agent certificate")
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise CertificateRejected("agent certificate does not allow client authentication")


def _host_id(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except (x509.ExtensionNotFound, ValueError) as exc:
        raise CertificateRejected("agent certificate has no host identity") from exc
    hosts = [uri.removeprefix(HOST_URI_PREFIX) for uri in uris if uri.startswith(HOST_URI_PREFIX)]
    if len(hosts) != 1 or not HOST_ID.fullmatch(hosts[0]):
        raise CertificateRejected("agent certificate must name exactly one well-formed rampart host")
    if [attr.value for attr in common_names] != [hosts[0]]:
        raise CertificateRejected("agent certificate common name does not match its host identity")
    return hosts[0]


def _public_key(cert: x509.Certificate) -> keys.PublicKey:
    try:
        return keys.agent_public_key(cert.public_key())
    except (PkiError, ValueError) as exc:
        raise CertificateRejected(f"agent certificate key: {exc}") from exc
