"""Hostile input on every route: oversized bodies, unknown fields, bad types, huge strings, control characters.

Whatever is sent, the answer is a 4xx with a one-line ``detail``, never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from unit.server.server_helpers import PASSWORD, Api

HUGE = "x" * 100_000


def _one_line_4xx(response: Any) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and len(detail) <= 300


BAD_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "/auth/login", {"username": "root", "password": PASSWORD, "admin": True}),
    ("POST", "/auth/login", {"username": ["root"], "password": PASSWORD}),
    ("POST", "/auth/login", {"username": HUGE, "password": PASSWORD}),
    ("POST", "/auth/login", {"username": "root", "password": HUGE}),
    ("POST", "/auth/login", {"username": "ro\x00ot", "password": PASSWORD}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "is_admin": True}),
    ("POST", "/users", {"name": "Ann", "password": PASSWORD}),
    ("POST", "/users", {"name": "an\x00n", "password": PASSWORD}),
    ("POST", "/users", {"name": "ann\n", "password": PASSWORD}),
    ("POST", "/users", {"name": HUGE, "password": PASSWORD}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "roles": ["root"]}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "roles": "admin"}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "tags": {"team": "red\x1b[31m"}}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "tags": {"Team\n": "red"}}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "tags": {"team": HUGE}}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "tags": {f"k{i}": "v" for i in range(33)}}),
    ("POST", "/users", {"name": "ann", "password": PASSWORD, "tags": ["team=red"]}),
    ("POST", "/users", {"name": 7, "password": 7}),
    ("POST", "/users", None),
    ("POST", "/users", []),
    ("PATCH", "/users/root", {"disabled": "yes please"}),
    ("PATCH", "/users/root", {"name": "other"}),
    ("PATCH", "/users/root", {"tags": {"team": "\u202ered"}}),
    ("POST", "/tokens", {"name": "ci\x07", "scopes": ["read"]}),
    ("POST", "/tokens", {"name": "ci", "scopes": []}),
    ("POST", "/tokens", {"name": "ci", "scopes": ["root"]}),
    ("POST", "/tokens", {"name": "ci", "scopes": ["read"], "expires_in": 1e300}),
    ("POST", "/tokens", {"name": "ci", "scopes": ["read"], "expires_in": "forever"}),
    ("POST", "/tokens", {"name": "ci", "scopes": ["read"], "expires_in": 2**80}),
    ("POST", "/tokens", {"name": "ci", "scopes": ["read"], "user": "someone"}),
    ("POST", "/join-tokens", {"tags": {"team": "red"}, "host_id": "h-0000000000000000"}),
    ("POST", "/join-tokens", {"tags": {"team": "re d"}}),
    ("POST", "/join-tokens", {"tags": {"": "red"}}),
    ("POST", "/join-tokens", {"expires_in": 0}),
    ("POST", "/join-tokens", {"expires_in": 31 * 86400}),
    ("POST", "/enroll", {"token": "rpj_x", "csr_pem": "x", "hostname": "a b", "agent_version": "1"}),
    ("POST", "/enroll", {"token": "rpj_x", "csr_pem": "x", "hostname": "web\x00", "agent_version": "1"}),
    ("POST", "/enroll", {"token": "rpj_x", "csr_pem": "x", "hostname": "web", "agent_version": "1\n"}),
    ("POST", "/enroll", {"token": HUGE, "csr_pem": "x", "hostname": "web", "agent_version": "1"}),
    ("POST", "/enroll", {"token": "rpj_x", "csr_pem": "x", "hostname": "web", "agent_version": "1", "x": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_BODIES)
def test_bad_bodies_are_one_line_4xx(api: Api, method: str, path: str, body: Any) -> None:
    _one_line_4xx(api.call(method, path, api.admin_token, json=body))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b"\xff\xfe\x00",
        b"[" * 5000 + b"]" * 5000,
        b'{"name": NaN}',
        b"null",
        b"1e999999",
    ],
)
@pytest.mark.parametrize("path", ["/users", "/tokens", "/join-tokens", "/auth/login", "/enroll"])
def test_malformed_json_is_a_4xx(api: Api, path: str, raw: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    _one_line_4xx(api.call("POST", path, api.admin_token, content=raw, headers=headers))


@pytest.mark.parametrize("path", ["/users", "/auth/login", "/enroll", "/join-tokens"])
def test_oversized_bodies_are_413(api: Api, path: str) -> None:
    body = b'{"name": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = api.call(
        "POST", path, api.admin_token, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_oversized_chunked_body_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    response = api.call(
        "POST", "/users", api.admin_token, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999999999999", "1e9"])
def test_bad_content_length_is_refused(api: Api, length: str) -> None:
    response = api.call("POST", "/users", api.admin_token, content=b"{}", headers={"Content-Length": length})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/hosts", {"tag": "team"}),
        ("/hosts", {"tag": "team=red\x00"}),
        ("/hosts", {"tag": "x" * 10_000}),
        ("/hosts", {"stale": "maybe"}),
        ("/hosts", {"status": "sleeping"}),
        ("/findings", {"severity": "HIGH,BOGUS"}),
        ("/findings", {"severity": "HIGH;DROP TABLE findings"}),
        ("/findings", {"limit": "0"}),
        ("/findings", {"limit": "-5"}),
        ("/findings", {"offset": "99999999999999999999999"}),
        ("/findings", {"status": "closed"}),
        ("/findings", {"fixable": "perhaps"}),
        ("/findings", {"host": "x" * 10_000}),
        ("/findings/summary", {"by": "planet"}),
        ("/audit", {"after": "-1"}),
        ("/audit", {"limit": "0"}),
        ("/audit", {"after": str(2**64)}),
    ],
)
def test_bad_query_parameters_are_one_line_4xx(api: Api, path: str, params: dict[str, str]) -> None:
    _one_line_4xx(api.call("GET", path, api.admin_token, params=params))


@pytest.mark.parametrize(
    "ref", ["x" * 5000, "%00", "..%2f..%2fetc%2fpasswd", "h-%0a", "%E2%80%AE", "'; DROP TABLE hosts; --"]
)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/hosts/{}"),
        ("GET", "/hosts/{}/packages"),
        ("POST", "/hosts/{}/revoke"),
        ("POST", "/hosts/{}/scan"),
        ("PATCH", "/users/{}"),
        ("DELETE", "/users/{}"),
        ("DELETE", "/tokens/{}"),
        ("DELETE", "/join-tokens/{}"),
    ],
)
def test_hostile_path_parameters_are_4xx(api: Api, method: str, template: str, ref: str) -> None:
    body = {"disabled": True} if method == "PATCH" else None
    response = api.call(method, template.format(ref), api.admin_token, json=body)
    assert 400 <= response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("params", [{"host": "web\x00"}, {"package": "\x00"}, {"advisory": "CVE\x00"}])
def test_nul_characters_in_finding_filters_match_nothing(api: Api, params: dict[str, str]) -> None:
    api.finding(api.host("web"), "openssl", "CVE-2026-1")
    response = api.call("GET", "/findings", api.admin_token, params=params)
    assert response.status_code == 422 or response.json() == {"total": 0, "items": []}
