"""Rampart's certificate authority: `CertificateAuthority` creates, stores, issues and verifies.

The CA signs two kinds of certificate: TLS server certificates for the rampart server and short
lived client certificates for enrolled agents. For agents the CA, not the signing request, decides
the subject: CN and the URI SAN ``rampart-host:<host id>`` name the host the server assigned.
On disk a CA is a directory (mode 0700) holding ``ca.crt`` and ``ca.key`` (mode 0600); loading
refuses a key file that group or others can read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

from cryptography import x509

from rampart.errors import CertificateRejected, PkiError, UsageError
from rampart.pki import extensions, files, keys
from rampart.pki.agentcert import HOST_ID, AgentCertificate, check_agent_certificate
from rampart.pki.pem import certificate_pem, certificate_sha256, fingerprint, load_certificate, load_csr

__all__ = ["AgentCertificate", "CertificateAuthority", "fingerprint"]

CERT_FILE = "ca.crt"
KEY_FILE = "ca.key"
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=397)
AGENT_LIFETIME = timedelta(days=7)


class CertificateAuthority:
    """A CA certificate with its private key."""

    def __init__(self, certificate: x509.Certificate, key: keys.PrivateKey) -> None:
        """Pair ``certificate`` with ``key``; PkiError unless it is a CA certificate for that key."""
        _check_ca(certificate, key)
        self._cert = certificate
        self._key = key

    @classmethod
    def create(
        cls,
        common_name: str,
        now: datetime,
        lifetime: timedelta = CA_LIFETIME,
        algorithm: keys.KeyAlgorithm = "ec-p256",
    ) -> Self:
        """A new self-signed CA with a fresh ``algorithm`` key, valid from ``now`` for ``lifetime``."""
        key = keys.generate(algorithm)
        builder = extensions.ca_builder(common_name, key.public_key(), _aware(now), lifetime)
        return cls(builder.sign(key, keys.signature_hash(key)), key)

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read the CA saved in ``directory``; PkiError if missing, corrupt or the key is not private."""
        cert_data = _read(directory / CERT_FILE, private=False)
        key_data = _read(directory / KEY_FILE, private=True)
        try:
            cert = load_certificate(cert_data, f"CA certificate {directory / CERT_FILE}")
        except CertificateRejected as exc:
            raise PkiError(exc.message) from exc
        return cls(cert, keys.load_private_key(key_data))

    def save(self, directory: Path) -> None:
        """Write ``ca.key`` (0600) and ``ca.crt`` atomically into ``directory`` (made 0700)."""
        files.ensure_private_dir(directory)
        files.write_atomic(directory / KEY_FILE, keys.private_key_pem(self._key), files.PRIVATE_FILE)
        files.write_atomic(directory / CERT_FILE, certificate_pem(self._cert), files.PUBLIC_FILE)

    @property
    def certificate(self) -> x509.Certificate:
        """The CA certificate."""
        return self._cert

    @property
    def certificate_pem(self) -> str:
        """The CA certificate as PEM text (what agents pin and clients trust)."""
        return certificate_pem(self._cert).decode("ascii")

    @property
    def sha256(self) -> str:
        """Lower-case hex SHA-256 of the CA certificate's DER encoding."""
        return certificate_sha256(self._cert)

    @property
    def not_after(self) -> datetime:
        """When the CA certificate expires."""
        return self._cert.not_valid_after_utc

    def issue_server_certificate(
        self, names: list[str], now: datetime, lifetime: timedelta = SERVER_LIFETIME
    ) -> tuple[bytes, bytes]:
        """A TLS server certificate and its new EC P-256 key (both PEM) for DNS names and IP literals."""
        if not names:
            raise UsageError("a server certificate needs at least one DNS name or IP address")
        key = keys.generate("ec-p256")
        not_after = self._not_after(_aware(now), lifetime)
        builder = extensions.server_builder(self._cert, key.public_key(), names, now, not_after)
        return certificate_pem(self._sign(builder)), keys.private_key_pem(key)

    def issue_agent_certificate(
        self, csr_pem: bytes, host_id: str, now: datetime, lifetime: timedelta = AGENT_LIFETIME
    ) -> bytes:
        """Sign the key in ``csr_pem`` into a client certificate for ``host_id`` (PEM).

        The CSR must carry a valid self-signature over an EC P-256 or Ed25519 key; its subject and
        extensions are ignored. CertificateRejected says which check failed.
        """
        if not HOST_ID.fullmatch(host_id):
            raise UsageError("host id must be 'h-' followed by 16 lower-case hex digits")
        public_key = _csr_public_key(csr_pem)
        not_after = self._not_after(_aware(now), lifetime)
        builder = extensions.agent_builder(self._cert, public_key, host_id, now, not_after)
        return certificate_pem(self._sign(builder))

    def verify_agent_certificate(self, cert_pem: bytes, now: datetime) -> AgentCertificate:
        """Check ``cert_pem`` is an agent certificate from this CA, valid at ``now``; CertificateRejected if not."""
        return check_agent_certificate(self._cert, cert_pem, _aware(now))

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        return builder.sign(self._key, keys.signature_hash(self._key))

    def _not_after(self, now: datetime, lifetime: timedelta) -> datetime:
        if lifetime <= timedelta(0):
            raise UsageError("certificate lifetime must be positive")
        return min(now + lifetime, self.not_after)


def _csr_public_key(csr_pem: bytes) -> keys.PublicKey:
    csr = load_csr(csr_pem)
    try:
        public_key = keys.agent_public_key(csr.public_key())
    except (PkiError, ValueError) as exc:
        raise CertificateRejected(f"signing request: {exc}") from exc
    if not csr.is_signature_valid:
        raise CertificateRejected("signing request signature does not verify")
    return public_key


def _check_ca(cert: x509.Certificate, key: keys.PrivateKey) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError) as exc:
        raise PkiError("CA certificate has no basicConstraints extension") from exc
    if not constraints.ca:
        raise PkiError("certificate is not a CA certificate")
    if not keys.same_public_key(cert.public_key(), key.public_key()):
        raise PkiError("CA key does not match the CA certificate")


def _read(path: Path, *, private: bool) -> bytes:
    try:
        return files.read_limited(path, keys.MAX_PEM, private=private)
    except FileNotFoundError as exc:
        raise PkiError(f"no CA found: {path} does not exist") from exc
    except ValueError as exc:
        raise PkiError(str(exc)) from exc
    except OSError as exc:
        raise PkiError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise UsageError("times given to the CA must be timezone-aware")
    return now
