"""Password hashing: argon2id round trip, never raising on bad stored hashes, rehash detection, the policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from rampart.auth import passwords
from rampart.auth.passwords import (
    check_password_policy,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)
from rampart.errors import PasswordPolicyError

GOOD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(GOOD)


def test_hash_is_argon2id_and_verifies(stored: str) -> None:
    assert stored.startswith("$argon2id$v=19$")
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD + " ")
    assert not verify_password(stored, "")


def test_same_password_hashes_differently(stored: str) -> None:
    assert hash_password(GOOD) != stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=65536,t=3,p=4$",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$",
        "$argon2id$v=19$m=99999999,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=65536,t=1000,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$abcdefghijklmnopqrstuuJ0kq8yQyWEsqmU3vV3O1Xz0rZbA0Gm2",
        "$argon2id$" + "A" * 10_000,
        "\x00\xff",
    ],
    ids=[
        "empty",
        "garbage",
        "prefix",
        "no-salt",
        "no-hash",
        "huge-memory",
        "huge-time",
        "bcrypt",
        "huge",
        "binary",
    ],
)
def test_unusable_stored_hash_does_not_verify_and_does_not_raise(bad: str) -> None:
    assert verify_password(bad, GOOD) is False
    assert needs_rehash(bad) is True


def test_truncated_stored_hash_does_not_verify(stored: str) -> None:
    assert not verify_password(stored[:-5], GOOD)


def test_other_argon2_variants_are_not_accepted() -> None:
    argon2i = PasswordHasher(type=passwords.Type.I).hash(GOOD)
    assert not verify_password(argon2i, GOOD)


def test_overlong_candidate_does_not_verify(stored: str) -> None:
    assert not verify_password(stored, "x" * 5000)


def test_needs_rehash_detects_other_parameters(stored: str) -> None:
    assert not needs_rehash(stored)
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert verify_password(weaker, GOOD)
    assert needs_rehash(weaker)


def test_dummy_verify_returns_nothing_and_never_raises() -> None:
    assert dummy_verify() is None


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", "at least 12"),
        ("short", "at least 12"),
        ("elevenchars", "at least 12"),
        ("a" * 1025, "at most 1024"),
        ("a" * 20, "one character repeated"),
        ("good password\x00x", "control characters"),
        ("tab\tin the password", "control characters"),
        ("Alice.Example", "user name"),
    ],
)
def test_policy_rejects(password: str, rule: str) -> None:
    with pytest.raises(PasswordPolicyError, match=rule):
        check_password_policy(password, username="alice.example")


@pytest.mark.parametrize(
    "password", ["twelve chars", "ünïcödé passwörd", "x" * 1023 + "y", "🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒🔒🔑"]
)
def test_policy_accepts(password: str) -> None:
    check_password_policy(password, username="alice")
