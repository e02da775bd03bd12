"""Join tokens: the wire form round trip, and strict refusal of every malformed or hostile variant."""

from __future__ import annotations

import base64
import json

import pytest

from rampart.auth.tokens import issue_join_token, parse_join_token
from rampart.errors import TokenFormatError, UsageError

CA = "ab" * 32
SECRET = "A" * 43


def _encode(raw: bytes) -> str:
    return "rpj_" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(**fields: object) -> str:
    body: dict[str, object] = {"v": 1, "id": "0123456789abcdef", "s": SECRET, "ca": f"sha256:{CA}"}
    body.update(fields)
    return _encode(json.dumps({k: v for k, v in body.items() if v is not ...}).encode())


def test_round_trip() -> None:
    issued = issue_join_token(CA)
    claims = parse_join_token(issued.wire)
    assert (claims.id, claims.secret, claims.ca_sha256) == (issued.id, issued.secret, CA)
    assert issued.secret not in repr(issued) and issued.secret not in repr(claims)
    assert "=" not in issued.wire and len(issued.wire) < 300


def test_hand_made_token_parses() -> None:
    assert parse_join_token(_token()).id == "0123456789abcdef"


@pytest.mark.parametrize("bad", ["", "AB" * 32, "ab" * 31, "sha256:" + "ab" * 32])
def test_issue_refuses_a_bad_ca_hash(bad: str) -> None:
    with pytest.raises(UsageError):
        issue_join_token(bad)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ("", "not a rampart join token"),
        ("rpt_0123456789abcdef_" + SECRET, "not a rampart join token"),
        ("rpj_", "valid JSON"),
        ("rpj_" + "A" * 2000, "longer than 1024"),
        ("rpj_!!!", "base64url"),
        ("rpj_" + base64.urlsafe_b64encode(b'{"v":1}').decode(), "base64url"),  # padded
        ("rpj_" + base64.b64encode(b'{"v":1,"id":"a"}>>').decode(), "base64url"),
        ("rpj_A", "base64url"),
        (_token()[:-3], "base64url|JSON"),
        (_encode(b"not json"), "valid JSON"),
        (_encode(b"\xff\xfe{}"), "valid JSON"),
        (_encode(json.dumps({"v": 1}).encode("utf-16")), "valid JSON"),
        (_encode(b"[1, 2]"), "JSON object"),
        (_encode(b"[" * 500 + b"]" * 500), "valid JSON|JSON object|longer"),
        (_encode(b'{"v":NaN,"id":"0123456789abcdef","s":"x","ca":"y"}'), "valid JSON"),
        (
            _encode(
                b'{"v":1,"v":1,"id":"0123456789abcdef","s":"'
                + SECRET.encode()
                + b'","ca":"sha256:'
                + CA.encode()
                + b'"}'
            ),
            "valid JSON",
        ),
        (_token(extra=1), "exactly the keys"),
        (_token(s=...), "exactly the keys"),
        (_token(v=2), "version"),
        (_token(v=True), "version"),
        (_token(v="1"), "version"),
        (_token(v=1.0), "version"),
        (_token(id="0123456789ABCDEF"), "id must be"),
        (_token(id=12345), "id must be"),
        (_token(id="../../etc/passwd"), "id must be"),
        (_token(s="short"), "secret is malformed"),
        (_token(s=None), "secret is malformed"),
        (_token(s="B" * 43), "secret is malformed"),
        (_token(ca=CA), "CA pin"),
        (_token(ca="sha1:" + "ab" * 20), "CA pin"),
        (_token(ca="sha256:" + CA.upper()), "CA pin"),
        (_token(ca=["sha256:" + CA]), "CA pin"),
    ],
)
def test_malformed_join_tokens_are_rejected(wire: str, message: str) -> None:
    with pytest.raises(TokenFormatError, match=message) as caught:
        parse_join_token(wire)
    assert SECRET not in caught.value.message
