"""The key types rampart accepts for agents and its CA: EC P-256 and Ed25519, and their PEM forms.

Every key that arrives from outside (a CSR, a certificate, a key file) passes through
`agent_public_key` or `load_private_key`, which refuse any other algorithm or curve.
"""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes

from rampart.errors import PkiError

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
KeyAlgorithm = Literal["ec-p256", "ed25519"]
MAX_PEM = 64 * 1024


def generate(algorithm: KeyAlgorithm = "ec-p256") -> PrivateKey:
    """A fresh private key of ``algorithm``."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def is_allowed(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> bool:
    """True for EC keys on P-256 and for Ed25519 keys, public or private."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return isinstance(key.curve, ec.SECP256R1)
    return isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)


def agent_public_key(key: CertificatePublicKeyTypes) -> PublicKey:
    """``key`` narrowed to an allowed type; PkiError naming the type otherwise."""
    if isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) and is_allowed(key):
        return key
    raise PkiError(f"key type {describe(key)} is not allowed (use EC P-256 or Ed25519)")


def describe(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> str:
    """A short name for a key's algorithm, for messages: "EC secp384r1", "RSA 2048", ..."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    size = getattr(key, "key_size", None)
    name = type(key).__name__.removeprefix("_").replace("PublicKey", "").replace("PrivateKey", "")
    return f"{name} {size}" if size else name


def signature_hash(key: PrivateKey) -> hashes.SHA256 | None:
    """The hash to pass to x509 builders' ``sign``: SHA-256 for EC, None for Ed25519."""
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def private_key_pem(key: PrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM (the file holding it must be private)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: PublicKey) -> str:
    """``key`` as SubjectPublicKeyInfo PEM text."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_private_key(data: bytes) -> PrivateKey:
    """Parse an unencrypted PEM private key of an allowed type; PkiError otherwise."""
    if len(data) > MAX_PEM:
        raise PkiError("private key PEM is too large")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise PkiError("private key is not a readable unencrypted PEM key") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) and is_allowed(key):
        return key
    raise PkiError(f"key type {describe(key)} is not allowed (use EC P-256 or Ed25519)")


def same_public_key(
    a: PublicKey | CertificatePublicKeyTypes, b: PublicKey | CertificatePublicKeyTypes
) -> bool:
    """True when the two public keys are the same key."""
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(serialization.Encoding.DER, fmt) == b.public_bytes(serialization.Encoding.DER, fmt)
