"""Issuing certificates: server certificates for names and IPs, agent certificates from hostile CSRs."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rampart.errors import CertificateRejected, UsageError
from rampart.pki import keys
from rampart.pki.ca import CertificateAuthority
from rampart.pki.pem import load_certificate
from unit.pki.pki_helpers import HOST, NOW, csr_for, ec_key, rsa_key, tamper_signature


def test_server_certificate_names_and_usage(ca: CertificateAuthority) -> None:
    cert_pem, key_pem = ca.issue_server_certificate(["rampart.example.com", "127.0.0.1", "::1"], NOW)
    cert = load_certificate(cert_pem)
    cert.verify_directly_issued_by(ca.certificate)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["rampart.example.com"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert keys.same_public_key(cert.public_key(), keys.load_private_key(key_pem).public_key())
    assert cert.not_valid_after_utc == NOW + timedelta(days=397)


def test_server_certificate_never_outlives_the_ca() -> None:
    ca = CertificateAuthority.create("short", NOW, lifetime=timedelta(days=30))
    cert = load_certificate(ca.issue_server_certificate(["localhost"], NOW)[0])
    assert cert.not_valid_after_utc == ca.not_after


@pytest.mark.parametrize(
    "name", ["", "bad name", "UPPER.example", "-x.example", "a..b", "x" * 254, "ex\x00ample", "ünï.example"]
)
def test_server_certificate_refuses_bad_names(ca: CertificateAuthority, name: str) -> None:
    with pytest.raises(UsageError, match="not a DNS name"):
        ca.issue_server_certificate(["ok.example", name], NOW)


def test_server_certificate_needs_a_name(ca: CertificateAuthority) -> None:
    with pytest.raises(UsageError, match="at least one"):
        ca.issue_server_certificate([], NOW)


def test_wildcard_and_long_first_name_are_accepted(ca: CertificateAuthority) -> None:
    long_name = ".".join(["a" * 60] * 3)
    cert = load_certificate(ca.issue_server_certificate([long_name, "*.fleet.example"], NOW)[0])
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "rampart server"


@pytest.mark.parametrize("key", [ec_key(), ed25519.Ed25519PrivateKey.generate()], ids=["p256", "ed25519"])
def test_agent_certificate_subject_comes_from_the_ca(ca: CertificateAuthority, key: keys.PrivateKey) -> None:
    pem = ca.issue_agent_certificate(csr_for(key, cn="admin", ca=True), HOST, NOW)
    cert = load_certificate(pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == HOST
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"rampart-host:{HOST}"]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    assert cert.not_valid_after_utc == NOW + timedelta(days=7)
    assert keys.same_public_key(cert.public_key(), key.public_key())


def test_agent_serials_are_random(ca: CertificateAuthority) -> None:
    csr = csr_for(ec_key())
    serials = {load_certificate(ca.issue_agent_certificate(csr, HOST, NOW)).serial_number for _ in range(5)}
    assert len(serials) == 5
    assert all(serial.bit_length() > 64 for serial in serials)


@pytest.mark.parametrize(
    ("csr", "message"),
    [
        (b"", "not a readable PEM CSR"),
        (b"garbage", "not a readable PEM CSR"),
        (b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "not a readable"),
        (b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"A" * 70_000, "larger than"),
        (csr_for(ec_key())[:200], "not a readable PEM CSR"),
        (csr_for(rsa_key()), "RSA 2048 is not allowed"),
        (csr_for(ec_key(ec.SECP384R1())), "EC secp384r1 is not allowed"),
        (tamper_signature(csr_for(ec_key())), "signature does not verify"),
        (tamper_signature(csr_for(ed25519.Ed25519PrivateKey.generate())), "signature does not verify"),
    ],
    ids=[
        "empty",
        "garbage",
        "bad-base64-body",
        "oversized",
        "truncated",
        "rsa",
        "p384",
        "tampered-ec",
        "tampered-ed25519",
    ],
)
def test_hostile_csrs_are_rejected(ca: CertificateAuthority, csr: bytes, message: str) -> None:
    with pytest.raises(CertificateRejected, match=message):
        ca.issue_agent_certificate(csr, HOST, NOW)


def test_a_certificate_is_not_a_csr(ca: CertificateAuthority) -> None:
    with pytest.raises(CertificateRejected, match="not a readable PEM CSR"):
        ca.issue_agent_certificate(ca.certificate_pem.encode(), HOST, NOW)


@pytest.mark.parametrize(
    "host_id", ["", "h-123", "H-0123456789ABCDEF", "h-0123456789abcdeg", "h-0123456789abcdef\n", "../x"]
)
def test_bad_host_ids_are_refused(ca: CertificateAuthority, host_id: str) -> None:
    with pytest.raises(UsageError, match="host id"):
        ca.issue_agent_certificate(csr_for(ec_key()), host_id, NOW)


def test_non_positive_lifetime_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(UsageError, match="lifetime"):
        ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW, lifetime=timedelta(0))


def test_ed25519_ca_issues_verifiable_certificates() -> None:
    ca = CertificateAuthority.create("ed CA", NOW, algorithm="ed25519")
    pem = ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW)
    assert ca.verify_agent_certificate(pem, NOW).host_id == HOST
