"""API tokens and their scopes: issuing, strict parsing, hashing and constant-time checking.

Wire form: ``rpt_<id>_<secret>`` where ``id`` is 16 lower-case hex digits (the public handle the
database is keyed by) and ``secret`` is 32 random bytes in unpadded URL-safe base64 (43
characters). Only ``sha256(secret)`` is stored. A malformed token raises `TokenFormatError`, whose
message never repeats what was presented.

Scopes bound what a token may do, and never exceed what the user's roles grant:
viewer -> read; auditor -> read, audit; operator -> read, write; admin -> all four.

Join tokens (`issue_join_token`, `parse_join_token`) live in `rampart.auth.jointokens` and are
re-exported here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from rampart.auth.encoding import is_secret, new_secret, new_token_id
from rampart.auth.jointokens import IssuedJoinToken, JoinClaims, issue_join_token, parse_join_token
from rampart.errors import ScopeError, TokenFormatError

API_PREFIX = "rpt_"
SCOPES = frozenset({"read", "write", "admin", "audit"})
ROLES = frozenset({"admin", "operator", "auditor", "viewer"})
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "auditor": frozenset({"read", "audit"}),
    "operator": frozenset({"read", "write"}),
    "admin": SCOPES,
}
_API_TOKEN = re.compile(r"rpt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_MAX_WIRE = 128
__all__ = [
    "IssuedJoinToken",
    "IssuedToken",
    "JoinClaims",
    "check_scopes",
    "hash_secret",
    "issue_api_token",
    "issue_join_token",
    "parse_api_token",
    "parse_join_token",
    "scopes_for_roles",
    "secret_matches",
]
_BAD_TOKEN = "malformed API token (expected rpt_<16 hex digits>_<43 characters>)"  # noqa: S105 (a message)


@dataclass(frozen=True, repr=False)
class IssuedToken:
    """A freshly issued API token: its id, its secret and the wire form handed to the user once."""

    id: str
    secret: str
    wire: str

    def __repr__(self) -> str:
        return f"IssuedToken(id={self.id!r}, secret=<hidden>)"


def issue_api_token() -> IssuedToken:
    """A new API token; store `hash_secret` of its secret, hand ``wire`` to the user."""
    token_id, secret = new_token_id(), new_secret()
    return IssuedToken(id=token_id, secret=secret, wire=f"{API_PREFIX}{token_id}_{secret}")


def parse_api_token(wire: str) -> tuple[str, str]:
    """``(id, secret)`` of a wire-form API token; TokenFormatError for anything else."""
    match = _API_TOKEN.fullmatch(wire) if len(wire) <= _MAX_WIRE else None
    if match is None or not is_secret(match.group(2)):
        raise TokenFormatError(_BAD_TOKEN)
    return match.group(1), match.group(2)


def hash_secret(secret: str) -> str:
    """Lower-case hex SHA-256 of a token secret: the only form of it that is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(stored_hash: str, secret: str) -> bool:
    """True when ``secret`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(stored_hash.encode("utf-8"), hash_secret(secret).encode("ascii"))


def scopes_for_roles(roles: Iterable[str]) -> frozenset[str]:
    """Every scope the given roles allow (unknown roles allow nothing)."""
    return frozenset().union(*(ROLE_SCOPES.get(role, frozenset()) for role in roles))


def check_scopes(requested: Iterable[str], roles: Iterable[str]) -> frozenset[str]:
    """``requested`` as a set, after checking each scope exists and the roles allow it; ScopeError if not."""
    wanted = frozenset(requested)
    if not wanted:
        raise ScopeError("a token needs at least one scope")
    if unknown := sorted(wanted - SCOPES):
        raise ScopeError(f"unknown scope(s): {', '.join(unknown)} (known: {', '.join(sorted(SCOPES))})")
    if excess := sorted(wanted - scopes_for_roles(roles)):
        raise ScopeError(f"your roles do not allow scope(s): {', '.join(excess)}")
    return wanted
