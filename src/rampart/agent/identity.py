"""The agent's identity: its key, its certificate, the CA it trusts and the server it belongs to.

`generate_key` and `make_csr` prepare enrollment; `AgentIdentity` is what enrollment (and every
later certificate rotation) leaves behind. It is saved as one JSON file, ``identity.json``
(mode 0600, in a 0700 directory), replaced atomically, so a crash mid-rotation leaves either the
old certificate and key or the new ones, never a mismatched pair. Loading refuses a file that
group or others may read, and checks that the certificate matches the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from rampart.errors import CertificateRejected, IdentityError, PkiError
from rampart.pki import files, keys
from rampart.pki.agentcert import HOST_ID
from rampart.pki.pem import load_certificate

IDENTITY_FILE = "identity.json"
SCHEMA = "rampart.agent-identity/1"
MAX_IDENTITY = 256 * 1024
_FIELDS = frozenset({"schema", "host_id", "server_url", "ca_pem", "certificate_pem", "key_pem"})
_FALLBACK_CN = "rampart-agent"


def generate_key() -> keys.PrivateKey:
    """A fresh EC P-256 key for the agent's certificate."""
    return keys.generate("ec-p256")


def make_csr(key: keys.PrivateKey, hostname: str) -> bytes:
    """A PEM signing request for ``key``; the CN is the host name (informational: the CA sets the subject)."""
    cn = hostname if 1 <= len(hostname) <= 64 and hostname.isprintable() else _FALLBACK_CN
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, keys.signature_hash(key))
    return csr.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True, repr=False)
class AgentIdentity:
    """An enrolled agent: host id, server URL, the CA (PEM), its certificate (PEM) and private key."""

    host_id: str
    server_url: str
    ca_pem: str
    certificate_pem: str
    key: keys.PrivateKey

    def __repr__(self) -> str:
        return f"AgentIdentity(host_id={self.host_id!r}, server_url={self.server_url!r})"

    @property
    def certificate(self) -> x509.Certificate:
        """The parsed agent certificate."""
        return load_certificate(self.certificate_pem, "agent certificate")

    @property
    def expires_at(self) -> datetime:
        """When the agent certificate expires."""
        return self.certificate.not_valid_after_utc

    def needs_rotation(self, now: datetime, fraction: float = 2 / 3) -> bool:
        """True once ``fraction`` of the certificate's lifetime has passed at ``now``."""
        cert = self.certificate
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        return now >= cert.not_valid_before_utc + lifetime * fraction

    def with_certificate(self, new_cert_pem: str, new_key: keys.PrivateKey) -> Self:
        """This identity with a rotated certificate and key; IdentityError if they do not match."""
        rotated = replace(self, certificate_pem=new_cert_pem, key=new_key)
        _check_pair(rotated)
        return rotated

    def save(self, state_dir: Path) -> None:
        """Write ``identity.json`` (0600) atomically into ``state_dir`` (made 0700)."""
        files.ensure_private_dir(state_dir)
        files.write_atomic(state_dir / IDENTITY_FILE, _encode(self), files.PRIVATE_FILE)

    @classmethod
    def load(cls, state_dir: Path) -> Self:
        """The identity saved in ``state_dir``; IdentityError if missing, corrupt or readable by others."""
        body = _decode(_read(state_dir / IDENTITY_FILE))
        identity = cls(
            host_id=body["host_id"],
            server_url=body["server_url"],
            ca_pem=body["ca_pem"],
            certificate_pem=body["certificate_pem"],
            key=_load_key(body["key_pem"]),
        )
        _check_pair(identity)
        return identity


def _encode(identity: AgentIdentity) -> bytes:
    body = {
        "schema": SCHEMA,
        "host_id": identity.host_id,
        "server_url": identity.server_url,
        "ca_pem": identity.ca_pem,
        "certificate_pem": identity.certificate_pem,
        "key_pem": keys.private_key_pem(identity.key).decode("ascii"),
    }
    return json.dumps(body, indent=2).encode("utf-8") + b"\n"


def _read(path: Path) -> bytes:
    try:
        return files.read_limited(path, MAX_IDENTITY, private=True)
    except FileNotFoundError as exc:
        raise IdentityError(f"agent is not enrolled: {path} does not exist") from exc
    except ValueError as exc:
        raise IdentityError(str(exc)) from exc
    except OSError as exc:
        raise IdentityError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _decode(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise IdentityError("agent identity file is not valid JSON") from exc
    if not isinstance(body, dict) or set(body) != _FIELDS or body["schema"] != SCHEMA:
        raise IdentityError(f"agent identity file is not a {SCHEMA} document")
    if not all(isinstance(value, str) for value in body.values()):
        raise IdentityError("agent identity file fields must all be strings")
    if not HOST_ID.fullmatch(body["host_id"]):
        raise IdentityError("agent identity file has a malformed host id")
    return body


def _load_key(pem: str) -> keys.PrivateKey:
    try:
        return keys.load_private_key(pem.encode("utf-8"))
    except PkiError as exc:
        raise IdentityError(f"agent key: {exc.message}") from exc


def _check_pair(identity: AgentIdentity) -> None:
    try:
        load_certificate(identity.ca_pem, "CA certificate")
        cert = identity.certificate
    except CertificateRejected as exc:
        raise IdentityError(exc.message) from exc
    if not keys.same_public_key(cert.public_key(), identity.key.public_key()):
        raise IdentityError("agent certificate does not match the agent key")
    names = [attr.value for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [identity.host_id]:
        raise IdentityError(f"agent certificate is not for host {identity.host_id}")
