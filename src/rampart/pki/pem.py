"""Parsing certificates and signing requests from untrusted PEM, with a size cap, and fingerprints.

Everything here takes bytes or text from outside; oversized, truncated or garbage input becomes a
`CertificateRejected` with a one-line message, never a traceback from the parser.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from rampart.errors import CertificateRejected

MAX_PEM = 64 * 1024


def as_bytes(data: bytes | str) -> bytes:
    """PEM input as bytes; text must be ASCII, as PEM is."""
    if isinstance(data, bytes):
        return data
    try:
        return data.encode("ascii")
    except UnicodeEncodeError as exc:
        raise CertificateRejected("PEM text contains non-ASCII characters") from exc


def load_certificate(data: bytes | str, what: str = "certificate") -> x509.Certificate:
    """The first certificate in PEM ``data``; CertificateRejected if it is not one or is too large."""
    raw = _capped(data, what)
    try:
        return x509.load_pem_x509_certificate(raw)
    except ValueError as exc:
        raise CertificateRejected(f"{what} is not a readable PEM certificate") from exc


def load_csr(data: bytes | str) -> x509.CertificateSigningRequest:
    """The certificate signing request in PEM ``data``; CertificateRejected if unreadable or too large."""
    raw = _capped(data, "signing request")
    try:
        return x509.load_pem_x509_csr(raw)
    except ValueError as exc:
        raise CertificateRejected("signing request is not a readable PEM CSR") from exc


def certificate_pem(cert: x509.Certificate) -> bytes:
    """``cert`` as PEM bytes."""
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_sha256(cert: x509.Certificate) -> str:
    """Lower-case hex SHA-256 of the certificate's DER encoding."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def fingerprint(cert_pem: bytes | str) -> str:
    """Lower-case hex SHA-256 of the DER encoding of the certificate in ``cert_pem``."""
    return certificate_sha256(load_certificate(cert_pem))


def _capped(data: bytes | str, what: str) -> bytes:
    raw = as_bytes(data)
    if len(raw) > MAX_PEM:
        raise CertificateRejected(f"{what} is larger than {MAX_PEM} bytes")
    return raw
