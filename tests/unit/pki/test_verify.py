"""Verifying agent certificates: the happy path and one clear rejection per failed check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rampart.errors import CertificateRejected
from rampart.pki import extensions, keys
from rampart.pki.ca import CertificateAuthority
from rampart.pki.pem import certificate_pem, load_certificate
from unit.pki.pki_helpers import HOST, NOW, csr_for, ec_key, tamper_signature


@pytest.fixture
def signer() -> tuple[CertificateAuthority, keys.PrivateKey]:
    """A CA whose key the test holds, to sign deliberately malformed certificates."""
    key = keys.generate()
    cert = extensions.ca_builder("signer", key.public_key(), NOW, timedelta(days=365)).sign(
        key, keys.signature_hash(key)
    )
    return CertificateAuthority(cert, key), key


def _sign(signer: tuple[CertificateAuthority, keys.PrivateKey], builder: x509.CertificateBuilder) -> bytes:
    return certificate_pem(builder.sign(signer[1], keys.signature_hash(signer[1])))


def test_verify_returns_the_host_and_serial(ca: CertificateAuthority) -> None:
    key = ec_key()
    pem = ca.issue_agent_certificate(csr_for(key), HOST, NOW)
    agent = ca.verify_agent_certificate(pem, NOW + timedelta(days=1))
    assert agent.host_id == HOST
    assert agent.serial_hex == format(load_certificate(pem).serial_number, "x")
    assert keys.same_public_key(agent.public_key, key.public_key())
    assert agent.not_after == NOW + timedelta(days=7)
    assert agent.not_before <= NOW


def test_certificate_of_another_ca_is_rejected(
    ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    pem = other_ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW)
    with pytest.raises(CertificateRejected, match="not issued by this server's CA"):
        ca.verify_agent_certificate(pem, NOW)


def test_tampered_signature_is_rejected(ca: CertificateAuthority) -> None:
    pem = tamper_signature(ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW))
    with pytest.raises(CertificateRejected, match=r"not issued by this server's CA|not a readable"):
        ca.verify_agent_certificate(pem, NOW)


def test_expired_and_not_yet_valid_are_rejected(ca: CertificateAuthority) -> None:
    pem = ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW)
    with pytest.raises(CertificateRejected, match="expired at"):
        ca.verify_agent_certificate(pem, NOW + timedelta(days=8))
    with pytest.raises(CertificateRejected, match="not valid before"):
        ca.verify_agent_certificate(pem, NOW - timedelta(hours=1))


def test_server_certificate_is_not_an_agent_certificate(ca: CertificateAuthority) -> None:
    cert_pem, _ = ca.issue_server_certificate(["localhost"], NOW)
    with pytest.raises(CertificateRejected, match="client authentication"):
        ca.verify_agent_certificate(cert_pem, NOW)


def test_the_ca_certificate_is_not_an_agent_certificate(ca: CertificateAuthority) -> None:
    with pytest.raises(
        CertificateRejected, match=r"lacks basicConstraints or extendedKeyUsage|CA certificate"
    ):
        ca.verify_agent_certificate(ca.certificate_pem.encode(), NOW)


def _leaf(ca: CertificateAuthority, cn: str, names: list[x509.GeneralName]) -> x509.CertificateBuilder:
    """A clientAuth leaf for ``ca`` with common name ``cn`` and the given SANs."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.certificate.subject)
        .public_key(ec_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(minutes=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )


@pytest.mark.parametrize(
    "uris",
    [
        [],
        ["rampart-host:h-0123456789abcdef", "rampart-host:h-fedcba9876543210"],
        ["rampart-host:../etc"],
        ["rampart-host:H-0123456789ABCDEF"],
        ["https://h-0123456789abcdef"],
    ],
    ids=["none", "two-hosts", "malformed", "uppercase", "other-scheme"],
)
def test_bad_host_uris_are_rejected(
    signer: tuple[CertificateAuthority, keys.PrivateKey], uris: list[str]
) -> None:
    ca, _ = signer
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.UniformResourceIdentifier(uri) for uri in uris]
    with pytest.raises(CertificateRejected, match="exactly one well-formed rampart host"):
        ca.verify_agent_certificate(_sign(signer, _leaf(ca, HOST, names)), NOW)


def test_common_name_must_match_the_host_uri(signer: tuple[CertificateAuthority, keys.PrivateKey]) -> None:
    ca, _ = signer
    uri = x509.UniformResourceIdentifier(f"rampart-host:{HOST}")
    with pytest.raises(CertificateRejected, match="common name does not match"):
        ca.verify_agent_certificate(_sign(signer, _leaf(ca, "h-fedcba9876543210", [uri])), NOW)


def test_a_well_formed_leaf_from_the_same_ca_passes(
    signer: tuple[CertificateAuthority, keys.PrivateKey],
) -> None:
    ca, _ = signer
    uri = x509.UniformResourceIdentifier(f"rampart-host:{HOST}")
    assert ca.verify_agent_certificate(_sign(signer, _leaf(ca, HOST, [uri])), NOW).host_id == HOST


def test_rsa_agent_key_is_rejected(signer: tuple[CertificateAuthority, keys.PrivateKey]) -> None:
    from unit.pki.pki_helpers import rsa_key

    ca, _ = signer
    builder = extensions.agent_builder(
        ca.certificate, rsa_key().public_key(), HOST, NOW, NOW + timedelta(days=1)
    )  # type: ignore[arg-type]
    with pytest.raises(CertificateRejected, match="RSA 2048 is not allowed"):
        ca.verify_agent_certificate(_sign(signer, builder), NOW)


@pytest.mark.parametrize(
    "pem",
    [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 70_000, "caf\u00e9", b"\x00" * 100],
    ids=["empty", "garbage", "oversized", "non-ascii", "nul"],
)
def test_garbage_is_rejected(ca: CertificateAuthority, pem: bytes) -> None:
    with pytest.raises(CertificateRejected):
        ca.verify_agent_certificate(pem, NOW)


def test_truncated_certificate_is_rejected(ca: CertificateAuthority) -> None:
    pem = ca.issue_agent_certificate(csr_for(ec_key()), HOST, NOW)
    with pytest.raises(CertificateRejected, match="not a readable PEM certificate"):
        ca.verify_agent_certificate(pem[: len(pem) - 80], NOW)
