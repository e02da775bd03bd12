"""The agent identity: key and CSR, saving and loading safely, expiry and rotation."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rampart.agent.identity import AgentIdentity, generate_key, make_csr
from rampart.errors import IdentityError
from rampart.pki import keys
from rampart.pki.ca import CertificateAuthority

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HOST = "h-0123456789abcdef"


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("agent test CA", NOW)


def _identity(
    ca: CertificateAuthority, key: keys.PrivateKey | None = None, host: str = HOST
) -> AgentIdentity:
    key = key or generate_key()
    cert = ca.issue_agent_certificate(make_csr(key, "web-1"), host, NOW).decode()
    return AgentIdentity(host, "https://rampart.test:8443", ca.certificate_pem, cert, key)


def test_generated_key_is_p256() -> None:
    key = generate_key()
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


@pytest.mark.parametrize(
    ("hostname", "cn"),
    [("web-1", "web-1"), ("", "rampart-agent"), ("x" * 65, "rampart-agent"), ("bad\nname", "rampart-agent")],
)
def test_csr_is_self_signed_with_the_host_name(hostname: str, cn: str) -> None:
    key = generate_key()
    csr = x509.load_pem_x509_csr(make_csr(key, hostname))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
    assert keys.same_public_key(csr.public_key(), key.public_key())


def test_ed25519_key_makes_a_csr_too() -> None:
    assert x509.load_pem_x509_csr(make_csr(keys.generate("ed25519"), "h")).is_signature_valid


def test_save_and_load_round_trip(ca: CertificateAuthority, tmp_path: Path) -> None:
    identity = _identity(ca)
    state = tmp_path / "state"
    identity.save(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "identity.json").stat().st_mode) == 0o600
    loaded = AgentIdentity.load(state)
    assert (loaded.host_id, loaded.server_url, loaded.ca_pem, loaded.certificate_pem) == (
        identity.host_id,
        identity.server_url,
        identity.ca_pem,
        identity.certificate_pem,
    )
    assert keys.same_public_key(loaded.key.public_key(), identity.key.public_key())


def test_repr_hides_the_key(ca: CertificateAuthority) -> None:
    assert "PRIVATE" not in repr(_identity(ca)) and "key" not in repr(_identity(ca))


def test_load_missing_says_not_enrolled(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="not enrolled"):
        AgentIdentity.load(tmp_path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_load_refuses_open_permissions(ca: CertificateAuthority, tmp_path: Path, mode: int) -> None:
    _identity(ca).save(tmp_path)
    (tmp_path / "identity.json").chmod(mode)
    with pytest.raises(IdentityError, match="readable by others"):
        AgentIdentity.load(tmp_path)


def _rewrite(tmp_path: Path, change: dict[str, object] | bytes) -> None:
    path = tmp_path / "identity.json"
    if isinstance(change, bytes):
        path.write_bytes(change)
        return
    body = json.loads(path.read_text())
    body.update(change)
    path.write_text(json.dumps({k: v for k, v in body.items() if v is not ...}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "not a rampart.agent-identity/1"),
        (b"[" * 100_000, "not valid JSON"),
        (b" " * 300_000, "larger than"),
        ({"schema": "rampart.agent-identity/2"}, "not a rampart.agent-identity/1"),
        ({"extra": "x"}, "not a rampart.agent-identity/1"),
        ({"server_url": ...}, "not a rampart.agent-identity/1"),
        ({"server_url": 5}, "must all be strings"),
        ({"host_id": "../../x"}, "malformed host id"),
        ({"host_id": "h-fedcba9876543210"}, "not for host"),
        ({"key_pem": "garbage"}, "agent key"),
        ({"certificate_pem": "garbage"}, "not a readable PEM certificate"),
        ({"ca_pem": "garbage"}, "not a readable PEM certificate"),
    ],
)
def test_load_refuses_corrupt_files(
    ca: CertificateAuthority, tmp_path: Path, change: dict[str, object] | bytes, message: str
) -> None:
    _identity(ca).save(tmp_path)
    _rewrite(tmp_path, change)
    with pytest.raises(IdentityError, match=message):
        AgentIdentity.load(tmp_path)


def test_load_refuses_a_key_that_does_not_match(ca: CertificateAuthority, tmp_path: Path) -> None:
    _identity(ca).save(tmp_path)
    _rewrite(tmp_path, {"key_pem": keys.private_key_pem(generate_key()).decode()})
    with pytest.raises(IdentityError, match="does not match"):
        AgentIdentity.load(tmp_path)


def test_expiry_and_rotation_schedule(ca: CertificateAuthority) -> None:
    identity = _identity(ca)
    start = identity.certificate.not_valid_before_utc
    assert identity.expires_at == NOW + timedelta(days=7)
    lifetime = identity.expires_at - start
    assert not identity.needs_rotation(NOW)
    assert not identity.needs_rotation(start + lifetime * 0.66)
    assert identity.needs_rotation(start + lifetime * 0.67)
    assert identity.needs_rotation(start + lifetime * 0.5, fraction=0.5)
    assert identity.needs_rotation(NOW + timedelta(days=30))


def test_with_certificate_rotates_and_saves_atomically(ca: CertificateAuthority, tmp_path: Path) -> None:
    identity = _identity(ca)
    identity.save(tmp_path)
    new_key = generate_key()
    new_cert = ca.issue_agent_certificate(make_csr(new_key, "web-1"), HOST, NOW + timedelta(days=5)).decode()
    rotated = identity.with_certificate(new_cert, new_key)
    rotated.save(tmp_path)
    assert AgentIdentity.load(tmp_path).certificate_pem == new_cert
    assert sorted(p.name for p in tmp_path.iterdir()) == ["identity.json"]
    assert identity.certificate_pem != new_cert  # the original is unchanged


def test_with_certificate_refuses_a_mismatched_key(ca: CertificateAuthority) -> None:
    identity = _identity(ca)
    new_cert = ca.issue_agent_certificate(make_csr(generate_key(), "web-1"), HOST, NOW).decode()
    with pytest.raises(IdentityError, match="does not match"):
        identity.with_certificate(new_cert, generate_key())
