"""Link proof of possession: message layout, signing and verifying with P-256 and Ed25519, hostile input."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from rampart.auth.proof import new_challenge, proof_message, sign_proof, verify_proof
from rampart.errors import UsageError
from rampart.pki import keys

HOST = "h-0123456789abcdef"
CA = "cd" * 32


@pytest.fixture(params=["ec-p256", "ed25519"])
def key(request: pytest.FixtureRequest) -> keys.PrivateKey:
    return keys.generate(request.param)


def test_challenges_are_32_fresh_bytes() -> None:
    challenges = {new_challenge() for _ in range(10)}
    assert len(challenges) == 10 and all(len(c) == 32 for c in challenges)


def test_message_is_domain_separated_and_length_prefixed() -> None:
    challenge = bytes(32)
    message = proof_message(challenge, "ab", "c")
    assert message.startswith(b"rampart-link-proof/v1\x00")
    assert message != proof_message(challenge, "a", "bc")
    assert message.endswith(b"\x00\x00\x00\x02ab\x00\x00\x00\x01c")


@pytest.mark.parametrize("challenge", [b"", bytes(31), bytes(33), bytes(10_000)])
def test_message_needs_a_32_byte_challenge(challenge: bytes) -> None:
    with pytest.raises(UsageError, match="32 bytes"):
        proof_message(challenge, HOST, CA)


def test_message_refuses_huge_fields() -> None:
    with pytest.raises(UsageError, match="too long"):
        proof_message(bytes(32), "h" * 5000, CA)


def test_sign_and_verify(key: keys.PrivateKey) -> None:
    message = proof_message(new_challenge(), HOST, CA)
    signature = sign_proof(key, message)
    assert verify_proof(key.public_key(), message, signature)


def test_wrong_message_key_or_signature_fails(key: keys.PrivateKey) -> None:
    message = proof_message(new_challenge(), HOST, CA)
    signature = sign_proof(key, message)
    other_key = keys.generate("ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "ec-p256")
    assert not verify_proof(key.public_key(), proof_message(new_challenge(), HOST, CA), signature)
    assert not verify_proof(other_key.public_key(), message, signature)
    assert not verify_proof(key.public_key(), message, signature[:-1] + bytes([signature[-1] ^ 1]))


@pytest.mark.parametrize(
    "signature", [b"", b"\x00", b"\x30\x06\x02\x01\x01\x02\x01\x01", b"garbage" * 10, bytes(10_000)]
)
def test_garbage_signatures_fail_without_raising(key: keys.PrivateKey, signature: bytes) -> None:
    assert not verify_proof(key.public_key(), proof_message(bytes(32), HOST, CA), signature)


def test_signature_of_one_algorithm_fails_for_the_other() -> None:
    message = proof_message(bytes(32), HOST, CA)
    ec_key, ed_key = keys.generate("ec-p256"), keys.generate("ed25519")
    assert not verify_proof(ed_key.public_key(), message, sign_proof(ec_key, message))
    assert not verify_proof(ec_key.public_key(), message, sign_proof(ed_key, message))


def test_other_curves_are_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    message = proof_message(bytes(32), HOST, CA)
    with pytest.raises(UsageError, match="P-256 or Ed25519"):
        sign_proof(p384, message)
    from cryptography.hazmat.primitives import hashes

    signature = p384.sign(message, ec.ECDSA(hashes.SHA256()))
    assert not verify_proof(p384.public_key(), message, signature)
