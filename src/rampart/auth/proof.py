"""Proof of possession for the agent link: the agent signs a server challenge with its certificate key.

The signed message is domain-separated and length-prefixed, so a signature made for this purpose
can never be replayed as anything else, nor a field's bytes shifted into a neighbour::

    b"rampart-link-proof/v1\\0" || len(challenge) || challenge || len(host_id) || host_id
                                || len(ca_sha256) || ca_sha256          (lengths: u32 big-endian)

EC P-256 keys sign with ECDSA over SHA-256 (DER signature), Ed25519 keys sign natively.
"""

from __future__ import annotations

import secrets
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from rampart.errors import UsageError
from rampart.pki.keys import PrivateKey, PublicKey, is_allowed

DOMAIN = b"rampart-link-proof/v1\x00"
CHALLENGE_BYTES = 32
MAX_SIGNATURE = 256
_MAX_FIELD = 1024


def new_challenge() -> bytes:
    """32 fresh random bytes for the agent to sign."""
    return secrets.token_bytes(CHALLENGE_BYTES)


def proof_message(challenge: bytes, host_id: str, ca_sha256: str) -> bytes:
    """The exact bytes the agent signs to prove it holds the key of ``host_id``'s certificate."""
    if len(challenge) != CHALLENGE_BYTES:
        raise UsageError(f"a link challenge is exactly {CHALLENGE_BYTES} bytes")
    fields = (challenge, host_id.encode("utf-8"), ca_sha256.encode("utf-8"))
    if any(len(field) > _MAX_FIELD for field in fields):
        raise UsageError("link proof field too long")
    return DOMAIN + b"".join(struct.pack(">I", len(field)) + field for field in fields)


def sign_proof(private_key: PrivateKey, message: bytes) -> bytes:
    """The signature of ``message`` with an EC P-256 or Ed25519 key."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and is_allowed(private_key):
        return private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    raise UsageError("link proofs need an EC P-256 or Ed25519 key")


def verify_proof(public_key: PublicKey, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``message``; False otherwise, never raising."""
    if len(signature) > MAX_SIGNATURE or not is_allowed(public_key):
        return False
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
