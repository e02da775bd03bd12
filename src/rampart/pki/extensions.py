"""Building the certificates rampart's CA signs: the CA itself, server certificates and agent certificates.

Each function returns a `CertificateBuilder` with subject, validity and the extensions of that
kind of certificate; `ca` signs it. Every certificate gets a random 159-bit serial, a subject key
identifier and (except the self-signed CA) an authority key identifier.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rampart.errors import UsageError
from rampart.pki.keys import PublicKey

BACKDATE = timedelta(minutes=5)  # tolerate peers whose clocks run a little behind
HOST_URI_PREFIX = "rampart-host:"
_DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(?:\*\.)?{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_MAX_CN = 64


def ca_builder(
    common_name: str, key: PublicKey, now: datetime, lifetime: timedelta
) -> x509.CertificateBuilder:
    """A self-signed CA certificate: basicConstraints CA (path length 0), keyCertSign and cRLSign."""
    name = _name(common_name)
    usage = _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True)
    return (
        _base(name, name, key, now - BACKDATE, now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
    )


def server_builder(
    ca: x509.Certificate, key: PublicKey, names: list[str], now: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    """A TLS server certificate for ``names`` (DNS names and IP literals) with EKU serverAuth."""
    alt_names = [general_name(item) for item in names]
    cn = names[0] if len(names[0]) <= _MAX_CN else "rampart server"
    return (
        _leaf(ca, _name(cn), key, now, not_after)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )


def agent_builder(
    ca: x509.Certificate, key: PublicKey, host_id: str, now: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    """An agent client certificate: CN = host id, URI SAN ``rampart-host:<host id>``, EKU clientAuth."""
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(HOST_URI_PREFIX + host_id)])
    return (
        _leaf(ca, _name(host_id), key, now, not_after)
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )


def general_name(name: str) -> x509.GeneralName:
    """An IP address SAN for an IP literal, a DNS SAN for a valid DNS name; UsageError otherwise."""
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        pass
    if len(name) > 253 or not _DNS_NAME.fullmatch(name):
        raise UsageError(f"not a DNS name or IP address: {name[:80]!r}")
    return x509.DNSName(name)


def _leaf(
    ca: x509.Certificate, subject: x509.Name, key: PublicKey, now: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key())  # type: ignore[arg-type]
    return (
        _base(subject, ca.subject, key, now - BACKDATE, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(aki, critical=False)
    )


def _base(
    subject: x509.Name, issuer: x509.Name, key: PublicKey, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def _name(common_name: str) -> x509.Name:
    if not 1 <= len(common_name) <= _MAX_CN:
        raise UsageError(f"common name must be 1 to {_MAX_CN} characters")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )
