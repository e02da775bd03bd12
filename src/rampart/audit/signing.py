"""Ed25519 signatures over audit anchors, so whoever rewrites the whole log cannot forge its head.

The signed message is a fixed, versioned text form of the anchor; keys are `cryptography` objects
(loading and storing them belongs to the caller).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rampart.audit.chain import Anchor
from rampart.errors import AnchorSignatureError

_DOMAIN = b"rampart-audit-anchor-v1\n"


def anchor_message(anchor: Anchor) -> bytes:
    """The exact bytes signed for `anchor`."""
    return _DOMAIN + f"{anchor.seq}\n{anchor.hash}".encode("ascii")


def sign_anchor(anchor: Anchor, key: Ed25519PrivateKey) -> bytes:
    """The 64-byte Ed25519 signature of `anchor`."""
    return key.sign(anchor_message(anchor))


def verify_anchor(anchor: Anchor, signature: bytes, key: Ed25519PublicKey) -> None:
    """Return quietly when `signature` is `key`'s signature of `anchor`; else raise `AnchorSignatureError`."""
    try:
        key.verify(signature, anchor_message(anchor))
    except InvalidSignature:
        raise AnchorSignatureError(f"audit anchor at seq {anchor.seq} has no valid signature") from None
