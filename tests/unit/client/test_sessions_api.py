"""The REST calls of sessions against httpx.MockTransport: what is sent, how errors and bad answers end."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from rampart.client.api import ApiClient
from rampart.client.sessions import (
    create_session,
    get_recording,
    get_session,
    list_sessions,
    terminate_session,
)
from rampart.errors import ApiError, ClientError
from unit.client.sessions_fake import session_info

TOKEN = "rpt_0123456789abcdef_" + "s" * 43


def client(status: int, body: Any, seen: list[httpx.Request]) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    return ApiClient("https://rampart.example", TOKEN, transport=httpx.MockTransport(handler))


def test_create_session_posts_only_the_given_parameters() -> None:
    seen: list[httpx.Request] = []
    with client(201, session_info("s-1", "forward"), seen) as api:
        info = create_session(api, "web-1", "forward", target="db:5432", command=None)
    assert info["id"] == "s-1"
    assert json.loads(seen[0].content) == {"host": "web-1", "kind": "forward", "target": "db:5432"}
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_list_get_terminate_and_recording_paths() -> None:
    seen: list[httpx.Request] = []
    with client(200, {"sessions": [session_info("s-1", "shell")]}, seen) as api:
        assert [s["id"] for s in list_sessions(api, active=False)] == ["s-1"]
        assert list_sessions(api)[0]["kind"] == "shell"
    with client(200, session_info("a/b", "exec"), seen) as api:
        assert get_session(api, "a/b")["id"] == "a/b"
    with client(204, None, seen) as api:
        terminate_session(api, "s-1")
    with client(200, {"verified": False, "events": [], "header": {}, "end": {}}, seen) as api:
        assert get_recording(api, "s-1", sanitize=True)["verified"] is False
    urls = [(r.method, str(r.url)) for r in seen]
    assert urls == [
        ("GET", "https://rampart.example/api/v1/sessions?active=false"),
        ("GET", "https://rampart.example/api/v1/sessions"),
        ("GET", "https://rampart.example/api/v1/sessions/a%2Fb"),
        ("POST", "https://rampart.example/api/v1/sessions/s-1/terminate"),
        ("GET", "https://rampart.example/api/v1/sessions/s-1/recording?sanitize=true"),
    ]


@pytest.mark.parametrize(("status", "words"), [(403, "denied"), (404, "unknown"), (409, "offline")])
def test_refusals_are_api_errors_with_the_servers_detail(status: int, words: str) -> None:
    with client(status, {"detail": f"host {words}"}, []) as api, pytest.raises(ApiError) as error:
        create_session(api, "web-1", "shell")
    assert error.value.status == status and words in error.value.message


@pytest.mark.parametrize(
    "body",
    [[], {"id": 7}, {"sessions": "x"}, {"sessions": [{"no": "id"}]}, "text", {"events": "x"}, {"events": []}],
)
def test_malformed_answers_are_refused(body: Any) -> None:
    with client(200, body, []) as api:
        for call in (
            lambda: get_session(api, "s"),
            lambda: list_sessions(api),
            lambda: get_recording(api, "s"),
        ):
            with pytest.raises(ApiError):
                call()


def test_dot_ids_are_refused_before_sending() -> None:
    seen: list[httpx.Request] = []
    with client(200, {}, seen) as api:
        for bad in ("", ".", ".."):
            with pytest.raises(ClientError):
                get_session(api, bad)
    assert seen == []
