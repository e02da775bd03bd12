"""Password hashing with argon2id, and the password policy.

Stored hashes are argon2id PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) with
argon2-cffi's default parameters (RFC 9106 low-memory profile). `verify_password` never raises:
anything wrong with the stored hash, or a hash of another variant or with absurd cost parameters,
simply does not verify. `dummy_verify` spends the same time as a real verification, for logins
naming an unknown user.

The policy (`check_password_policy`) is deliberately short: 12 to 1024 characters, not a single
character repeated, no control characters, and not the user's own name.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import unicodedata

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rampart.errors import PasswordPolicyError

MIN_LENGTH = 12
MAX_LENGTH = 1024
_MAX_MEMORY_KIB = 1024 * 1024  # a stored hash asking for more than 1 GiB is not trusted
_MAX_TIME_COST = 32
_HASHER = PasswordHasher(type=Type.ID)
_PREFIX = "$argon2id$"


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` with a fresh random salt."""
    return _HASHER.hash(password)


def verify_password(stored: str, candidate: str) -> bool:
    """True when ``candidate`` matches ``stored``; False for a mismatch or any unusable stored hash."""
    if len(candidate) > MAX_LENGTH or not _usable(stored):
        dummy_verify()
        return False
    try:
        return _HASHER.verify(stored, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with other parameters than today's (or is not usable at all)."""
    if not _usable(stored):
        return True
    return _HASHER.check_needs_rehash(stored)


def dummy_verify() -> None:
    """Spend the time of one verification, so an unknown user name cannot be told from a wrong password."""
    with contextlib.suppress(VerificationError):
        _HASHER.verify(_dummy_hash(), secrets.token_urlsafe(16))


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise PasswordPolicyError naming the first rule ``password`` breaks."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"password must be at most {MAX_LENGTH} characters")
    if len(set(password)) == 1:
        raise PasswordPolicyError("password must not be one character repeated")
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise PasswordPolicyError("password must not contain control characters")
    if username is not None and password.casefold() == username.casefold():
        raise PasswordPolicyError("password must not be the user name")


def _usable(stored: str) -> bool:
    if not isinstance(stored, str) or not stored.startswith(_PREFIX) or len(stored) > 512:
        return False
    try:
        params = extract_parameters(stored)
    except (InvalidHashError, ValueError):
        return False
    return params.memory_cost <= _MAX_MEMORY_KIB and params.time_cost <= _MAX_TIME_COST


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
