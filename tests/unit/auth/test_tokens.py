"""API tokens: issue and strict parse, hashing and constant-time comparison, scopes from roles."""

from __future__ import annotations

import hashlib

import pytest

from rampart.auth.tokens import (
    check_scopes,
    hash_secret,
    issue_api_token,
    parse_api_token,
    scopes_for_roles,
    secret_matches,
)
from rampart.errors import ScopeError, TokenFormatError

SECRET = "A" * 42 + "A"  # 43 characters; canonical for 32 zero bytes with the last char's low bits zero


def test_issue_and_parse_round_trip() -> None:
    token = issue_api_token()
    assert token.wire == f"rpt_{token.id}_{token.secret}"
    assert len(token.id) == 16 and len(token.secret) == 43
    assert parse_api_token(token.wire) == (token.id, token.secret)
    assert token.secret not in repr(token)


def test_issued_tokens_differ() -> None:
    assert len({issue_api_token().wire for _ in range(20)}) == 20


def _wire(token_id: str = "0123456789abcdef", secret: str = SECRET) -> str:
    return f"rpt_{token_id}_{secret}"


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "rpt_",
        "rpt__",
        _wire(token_id="0123456789ABCDEF"),
        _wire(token_id="0123456789abcde"),
        _wire(token_id="0123456789abcdefa"),
        _wire(secret=SECRET[:-1]),
        _wire(secret=SECRET + "A"),
        _wire(secret="B" * 43),  # non-canonical: low bits of the last character set
        _wire(secret="A" * 42 + "="),
        _wire(secret="A" * 42 + "+"),
        _wire() + "\n",
        " " + _wire(),
        "Bearer " + _wire(),
        "rpj_" + _wire()[4:],
        _wire().replace("_", "-", 1),
        _wire() * 100,
        "rpt_0123456789abcdef_" + "\u0410" * 43,
    ],
)
def test_malformed_tokens_are_rejected_without_echo(wire: str) -> None:
    with pytest.raises(TokenFormatError) as caught:
        parse_api_token(wire)
    assert "\n" not in caught.value.message
    assert SECRET not in caught.value.message


def test_hash_and_match() -> None:
    token = issue_api_token()
    stored = hash_secret(token.secret)
    assert stored == hashlib.sha256(token.secret.encode()).hexdigest()
    assert secret_matches(stored, token.secret)
    assert not secret_matches(stored, issue_api_token().secret)
    assert not secret_matches("", token.secret)
    assert not secret_matches("é" * 64, token.secret)


@pytest.mark.parametrize(
    ("roles", "scopes"),
    [
        ([], set()),
        (["viewer"], {"read"}),
        (["auditor"], {"read", "audit"}),
        (["operator"], {"read", "write"}),
        (["operator", "auditor"], {"read", "write", "audit"}),
        (["admin"], {"read", "write", "admin", "audit"}),
        (["root", "superuser"], set()),
    ],
)
def test_scopes_for_roles(roles: list[str], scopes: set[str]) -> None:
    assert scopes_for_roles(roles) == frozenset(scopes)


def test_check_scopes_accepts_a_subset() -> None:
    assert check_scopes(["read"], ["operator"]) == frozenset({"read"})
    assert check_scopes(("read", "read", "write"), {"operator"}) == frozenset({"read", "write"})


@pytest.mark.parametrize(
    ("requested", "roles", "message"),
    [
        ([], ["admin"], "at least one"),
        (["root"], ["admin"], "unknown scope"),
        (["admin"], ["operator"], "do not allow scope.*admin"),
        (["audit"], ["viewer"], "do not allow scope.*audit"),
        (["read"], [], "do not allow"),
    ],
)
def test_check_scopes_refuses(requested: list[str], roles: list[str], message: str) -> None:
    with pytest.raises(ScopeError, match=message):
        check_scopes(requested, roles)
