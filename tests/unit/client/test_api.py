"""ApiClient against httpx.MockTransport: requests it sends, error mapping, size caps, shapes, paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rampart.client.api import ApiClient, FindingQuery
from rampart.errors import ApiError, ClientError, UsageError
from unit.client.samples import HOST_A, finding_json, host_json

TOKEN = "rpt_0123456789abcdef_" + "t" * 43
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **kwargs: Any) -> ApiClient:
    return ApiClient(
        "https://rampart.example:8443", TOKEN, None, 5.0, transport=httpx.MockTransport(handler), **kwargs
    )


def answer(status: int = 200, body: object = None, **kwargs: Any) -> Handler:
    return lambda request: httpx.Response(status, json=body, **kwargs)


def test_requests_carry_the_bearer_token_and_base_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[host_json()])

    hosts = client(handler).hosts(tags=[("env", "prod"), ("team", "payments")], stale=True, status="stale")
    assert hosts[0].id == HOST_A and hosts[0].os.pretty
    request = seen[0]
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url.path == "/api/v1/hosts"
    assert request.url.params.get_list("tag") == ["env=prod"]  # the server takes one tag
    assert client(handler).hosts(tags=[("env", "prod"), ("team", "other")]) == []  # the rest apply here
    assert request.url.params["stale"] == "true" and request.url.params["status"] == "stale"


def test_login_sends_no_token_and_reads_the_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "token": "rpt_new",
            "expires_at": "2026-11-29T00:00:00Z",
            "user": {"name": "a", "roles": ["viewer"], "tags": {}},
        }
        return httpx.Response(200, json=body)

    result = client(handler).login("a", "pw")
    assert result.user.name == "a" and "rpt_new" not in repr(result)
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content) == {"username": "a", "password": "pw"}


def test_path_segments_are_quoted_and_dot_segments_refused() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(204)

    api = client(handler)
    api.delete_user("a/../b?c")
    assert seen == ["/api/v1/users/a%2F..%2Fb%3Fc"]
    for bad in ("", ".", ".."):
        with pytest.raises(ClientError):
            api.delete_user(bad)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {"detail": "bad credentials"},
            "server said 401: bad credentials (log in again with `rampart login`)",
        ),
        (403, {"detail": "operator role required"}, "server said 403: operator role required"),
        (404, {"detail": "no such host"}, "server said 404: no such host"),
        (
            422,
            {"detail": [{"loc": ["body", "expires_in"], "msg": "too large", "type": "x"}, {"msg": "other"}]},
            "server said 422: expires_in: too large; other",
        ),
        (500, {"detail": "line one\nline two\x1b[2J"}, "server said 500: line one line two\\x1b[2J"),
        (500, {"unexpected": 1}, "server said 500: Internal Server Error (no JSON detail)"),
        (418, ["x"], "server said 418: I'm a teapot (no JSON detail)"),
    ],
)
def test_error_statuses_become_one_line(status: int, body: object, expected: str) -> None:
    with pytest.raises(ApiError) as error:
        client(answer(status, body)).whoami()
    assert error.value.message == expected and error.value.status == status
    assert "\n" not in error.value.message


def test_rate_limit_mentions_retry_after() -> None:
    with pytest.raises(ApiError, match=r"server said 429: slow down \(retry after 30 s\)"):
        client(answer(429, {"detail": "slow down"}, headers={"Retry-After": "30"})).login("a", "b")


def test_non_json_error_and_success_bodies() -> None:
    html = lambda request: httpx.Response(502, text="<html>Bad Gateway</html>")  # noqa: E731
    with pytest.raises(ApiError, match=r"^server said 502: Bad Gateway \(no JSON detail\)$"):
        client(html).whoami()
    garbage = lambda request: httpx.Response(200, text="not json")  # noqa: E731
    with pytest.raises(ApiError, match="not JSON"):
        client(garbage).whoami()


def test_a_server_echoing_the_token_does_not_leak_it() -> None:
    with pytest.raises(ApiError) as error:
        client(answer(400, {"detail": f"bad token {TOKEN}"})).whoami()
    assert TOKEN not in error.value.message and "rpt_***" in error.value.message


def test_a_long_detail_is_shortened() -> None:
    with pytest.raises(ApiError) as error:
        client(answer(400, {"detail": "x" * 10_000})).whoami()
    assert len(error.value.message) < 400


def test_oversized_responses_are_refused_while_reading() -> None:
    big = lambda request: httpx.Response(200, content=b"[" + b"1," * 5000 + b"1]")  # noqa: E731
    with pytest.raises(ApiError, match="larger than 1,000 bytes"):
        client(big, max_response_bytes=1000).hosts()

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"[" + b"1," * 400] * 10 + [b"1]"]))

    with pytest.raises(ApiError, match="larger"):
        client(streamed, max_response_bytes=1000).hosts()


@pytest.mark.parametrize(
    "body",
    [
        {"hosts": []},
        [{"id": HOST_A}],
        [host_json(hostname=5)],
        [host_json(tags=["a"])],
        [host_json(last_seen_at="yesterday")],
        [host_json(connected="yes")],
        [host_json(os="debian")],
        ["not an object"],
        None,
    ],
)
def test_wrong_shapes_are_clear_errors_not_key_errors(body: object) -> None:
    with pytest.raises(ApiError, match="unexpected response"):
        client(answer(200, body)).hosts()


def test_findings_are_fetched_page_by_page() -> None:
    offsets: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        offsets.append((request.url.params["offset"], request.url.params["severity"]))
        items = [finding_json(vulnerability_id=f"CVE-{i}") for i in range(offset, min(offset + limit, 5))]
        return httpx.Response(200, json={"total": 5, "items": items})

    found = client(handler).findings(FindingQuery(severities=("HIGH",)), page_size=2)
    assert [f.vulnerability_id for f in found] == [f"CVE-{i}" for i in range(5)]
    assert offsets == [("0", "HIGH"), ("2", "HIGH"), ("4", "HIGH")]


def test_paging_stops_when_a_server_sends_an_empty_page_early() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"total": 1000, "items": []})

    assert client(handler).findings(FindingQuery()) == [] and calls == 1


def test_summaries_tokens_and_join_tokens() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/findings/summary" and request.url.params["by"] == "fleet":
            return httpx.Response(200, json={"hosts": 2, "open": {"HIGH": 1}, "fixable": 1})
        if path == "/findings/summary":
            return httpx.Response(
                200, json=[{"host_id": HOST_A, "hostname": "a", "open": {"LOW": 2}, "fixable": 0}]
            )
        if path == "/join-tokens" and request.method == "POST":
            assert json.loads(request.content) == {"tags": {"env": "prod"}, "expires_in": 3600}
            return httpx.Response(
                201,
                json={
                    "id": "j",
                    "token": "rpj_x",
                    "expires_at": "2026-11-28T13:00:00Z",
                    "tags": {"env": "prod"},
                },
            )
        if path == "/tokens" and request.method == "POST":
            return httpx.Response(
                201,
                json={
                    "id": "t",
                    "name": "ci",
                    "scopes": ["read"],
                    "expires_at": "2026-12-28T00:00:00Z",
                    "token": "rpt_s",
                },
            )
        if path == "/hosts/h-0123456789abcdef/scan":
            return httpx.Response(202, json={"job_id": "j-1"})
        return httpx.Response(200, json={"hosts": 1, "packages": 2, "opened": 3, "closed": 4, "seconds": 0.5})

    api = client(handler)
    assert api.fleet_summary().open == {"HIGH": 1}
    assert api.host_summaries()[0].open == {"LOW": 2}
    assert api.create_join_token({"env": "prod"}, 3600).token == "rpj_x"
    assert api.create_token("ci", ["read"], 60).token == "rpt_s"
    assert api.scan_host(HOST_A) == "j-1"
    assert api.rematch().closed == 4


def test_update_user_sends_only_what_changes() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"name": "bob", "roles": ["viewer"], "tags": {}, "disabled": True})

    client(handler).update_user("bob", roles=("viewer",), disabled=True, tags={})
    assert bodies == [{"roles": ["viewer"], "disabled": True, "tags": {}}]


def _audit_line(seq: int) -> bytes:
    from datetime import UTC, datetime

    from rampart.audit.codec import event_hash, to_line
    from rampart.audit.events import AuditEvent

    draft = AuditEvent(
        seq,
        datetime(2026, 11, 28, tzinfo=UTC),
        "alice",
        "agent.revoke",
        "h-1",
        "success",
        {},
        "0" * 64,
        "0" * 64,
    )
    from dataclasses import replace

    return to_line(replace(draft, hash=event_hash(draft))).encode()


def test_audit_events_stream_line_by_line() -> None:
    body = _audit_line(1) + b"\n\n" + _audit_line(2) + b"\n"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["after"] == "0"
        return httpx.Response(
            200, content=iter([body[:10], body[10:]]), headers={"content-type": "application/x-ndjson"}
        )

    events = list(client(handler).audit_events(after=0))
    assert [e.seq for e in events] == [1, 2]


@pytest.mark.parametrize("body", [b"{not json}\n", b'{"seq": 1}\n', b"[]\n", b"x" * 3_000_000])
def test_malformed_audit_streams(body: bytes) -> None:
    with pytest.raises(ApiError):
        list(client(lambda request: httpx.Response(200, content=body)).audit_events())


def test_connection_problems_are_one_line() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(
        ClientError,
        match=r"^cannot connect to https://rampart.example:8443: \[Errno 111\] Connection refused$",
    ):
        client(refuse).whoami()

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(ClientError, match="did not answer within 5 s"):
        client(slow).whoami()


def test_tls_refusal_explains_how_to_trust_the_ca() -> None:
    def untrusted(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
        )

    with pytest.raises(ClientError) as error:
        client(untrusted).whoami()
    assert error.value.message.startswith("TLS verification of https://rampart.example:8443 failed")
    assert "--ca-sha256" in error.value.message


def test_no_token_means_no_request() -> None:
    api = ApiClient("https://a.example", None, transport=httpx.MockTransport(answer(200, {})))
    with pytest.raises(ClientError, match="not logged in"):
        api.whoami()


@pytest.mark.parametrize(
    "url",
    [
        "http://rampart.example",
        "ftp://a",
        "https://user:pw@a.example",
        "https://a.example/?x=1",
        "a.example",
        "https://",
        "http://10.0.0.1:80",
    ],
)
def test_unsafe_server_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        ApiClient(url, TOKEN)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000", "https://a.example/prefix/"],
)
def test_loopback_http_and_https_are_accepted(url: str) -> None:
    api = ApiClient(url, TOKEN)
    assert not api.server.endswith("/") and TOKEN not in repr(api)
    api.close()
