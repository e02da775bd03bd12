"""Builders for PKI tests: a fixed clock, signing requests of any key type, tampered PEM."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HOST = "h-0123456789abcdef"


def csr_for(key: CertificateIssuerPrivateKeyTypes, cn: str = "agent", ca: bool = False) -> bytes:
    """A PEM CSR for ``key``; ``ca`` adds a (to-be-ignored) basicConstraints CA extension."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


def ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def tamper_signature(pem: bytes) -> bytes:
    """The same PEM object with the last byte of its DER (inside the signature) flipped."""
    lines = pem.decode().strip().splitlines()
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    der[-1] ^= 0x01
    body = base64.encodebytes(bytes(der)).decode()
    return f"{lines[0]}\n{body}{lines[-1]}\n".encode()
