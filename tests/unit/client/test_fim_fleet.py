"""The fleet file integrity client methods (httpx.MockTransport) and ``rampart fim hosts|changes|accept|request``
(a Typer group with ``register`` applied, the ApiClient double injected): paths, bodies, paging, JSON when
piped, tables that escape every path."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from rampart.cli.fim_fleet import register
from rampart.client.api import FimChangeQuery
from rampart.client.models import FimChange, FimHost
from rampart.errors import ApiError, UsageError
from unit.client.fake import SECRET, FakeApi, injected
from unit.client.samples import HOST_A
from unit.client.test_api import client
from unit.client.test_registry_api import Recorder

WHEN = "2026-01-01T00:00:00Z"
EVIL_SHOWN = "/tmp/\\x1b]0;owned\\x07"


def fim_host_json(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "host_id": HOST_A,
        "hostname": "web-1",
        "checked_at": WHEN,
        "baseline_created": WHEN,
        "baseline_digest": "ab" * 32,
        "key_id": "k-1",
        "entries": 1200,
        "unreadable": 2,
        "refused": "",
        "open": {"unexplained": 2, "package": 5},
        "accepted": 1,
    }
    return {**value, **fields}


def fim_change_json(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "host_id": HOST_A,
        "hostname": "web-1",
        "path": "/etc/passwd",
        "path_b64": base64.b64encode(b"/etc/passwd").decode(),
        "change": "changed",
        "cause": "unexplained",
        "package": None,
        "note": None,
        "attributes": [{"name": "size", "before": "1", "after": "10"}],
        "fingerprint": "cd" * 32,
        "status": "open",
        "first_seen_at": WHEN,
        "last_seen_at": WHEN,
        "resolved_at": None,
        "accepted_by": None,
        "accepted_at": None,
        "accepted_reason": None,
    }
    return {**value, **fields}


# --- the client ---------------------------------------------------------------------------------


def test_fim_hosts_are_read_strictly() -> None:
    handler = Recorder(body=[fim_host_json(), fim_host_json(checked_at=None, refused="bad signature")])
    hosts = client(handler).fim_hosts()
    assert (handler.last.method, handler.raw_path()) == ("GET", "/api/v1/fim/hosts")
    assert hosts[0].open == {"unexplained": 2, "package": 5} and hosts[0].checked_at is not None
    assert hosts[1].checked_at is None and hosts[1].refused == "bad signature"
    with pytest.raises(ApiError, match=r"fim hosts 0\.entries is not an integer"):
        client(Recorder(body=[fim_host_json(entries="many")])).fim_hosts()


def test_fim_changes_send_the_filters_and_follow_pages() -> None:
    pages = [
        {"total": 3, "items": [fim_change_json(), fim_change_json(path="/etc/b")]},
        {"total": 3, "items": [fim_change_json(path="/etc/c", attributes=[])]},
    ]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[len(seen) - 1])

    query = FimChangeQuery(host="web-1", status="all", cause="package")
    changes = client(handler).fim_changes(query, page_size=2)
    assert [c.path for c in changes] == ["/etc/passwd", "/etc/b", "/etc/c"]
    assert changes[0].attributes[0].after == "10" and changes[2].attributes == ()
    assert [list(r.url.params.multi_items()) for r in seen] == [
        [("status", "all"), ("host", "web-1"), ("cause", "package"), ("limit", "2"), ("offset", "0")],
        [("status", "all"), ("host", "web-1"), ("cause", "package"), ("limit", "2"), ("offset", "2")],
    ]
    assert FimChangeQuery().params() == [("status", "open")]


def test_a_malformed_change_is_one_clear_error() -> None:
    body = {"total": 1, "items": [fim_change_json(attributes=[{"name": "size"}])]}
    with pytest.raises(ApiError, match="attributes 0 lacks field 'before'"):
        client(Recorder(body=body)).fim_changes(FimChangeQuery())


def test_accept_posts_paths_or_all_open() -> None:
    handler = Recorder(body=[fim_change_json(status="accepted", accepted_by="opal")])
    accepted = client(handler).accept_fim_changes(HOST_A, "planned", paths_b64=["L2V0Yy9wYXNzd2Q="])
    assert (handler.last.method, handler.raw_path()) == ("POST", "/api/v1/fim/changes/accept")
    assert handler.body_json() == {"host": HOST_A, "reason": "planned", "paths_b64": ["L2V0Yy9wYXNzd2Q="]}
    assert accepted[0].status == "accepted" and accepted[0].accepted_by == "opal"
    client(handler).accept_fim_changes(HOST_A, "all of them", all_open=True)
    assert handler.body_json() == {"host": HOST_A, "reason": "all of them", "all_open": True}


def test_request_check_answers_the_job_and_maps_errors() -> None:
    handler = Recorder(202, {"job_id": "j-1"})
    assert client(handler).request_fim_check("web 1/x") == "j-1"
    assert (handler.last.method, handler.raw_path()) == ("POST", "/api/v1/hosts/web%201%2Fx/fim/check")
    refused = Recorder(409, {"detail": "the host's agent is not connected"})
    with pytest.raises(ApiError, match="server said 409: the host's agent is not connected"):
        client(refused).request_fim_check(HOST_A)


# --- the commands -------------------------------------------------------------------------------


@dataclass
class FimFake(FakeApi):
    """FakeApi with the fleet file integrity methods."""

    fim_hosts_list: list[FimHost] = field(
        default_factory=lambda: [
            FimHost.from_json(fim_host_json()),
            FimHost.from_json(
                fim_host_json(host_id="h-00000000000000bb", hostname="db\x1b[31m", refused="sig\x1b[2J")
            ),
        ]
    )
    fim_changes_list: list[FimChange] = field(
        default_factory=lambda: [
            FimChange.from_json(fim_change_json(path=EVIL_SHOWN, note="\x1b[31mnote")),
            FimChange.from_json(
                fim_change_json(path="/usr/bin/ls", cause="package", package="coreutils", status="accepted")
            ),
        ]
    )

    def fim_hosts(self) -> list[FimHost]:
        self._record("fim_hosts")
        return self.fim_hosts_list

    def fim_changes(self, query: FimChangeQuery) -> list[FimChange]:
        self._record("fim_changes", query)
        return self.fim_changes_list

    def accept_fim_changes(
        self, host: str, reason: str, *, paths_b64: list[str] | None = None, all_open: bool = False
    ) -> list[FimChange]:
        self._record("accept_fim_changes", host, reason, paths_b64=paths_b64, all_open=all_open)
        return self.fim_changes_list[:1]

    def request_fim_check(self, host: str) -> str:
        self._record("request_fim_check", host)
        return "job-7"


def fim_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def group() -> None:
        """rampart fim (for tests: only the fleet commands)."""

    register(app)
    return app


def run(fake: FakeApi, args: list[str]) -> Any:
    environment = {
        "COLUMNS": "200",
        "RAMPART_SERVER": "https://rampart.example:8443",
        "RAMPART_TOKEN": SECRET,
    }
    with injected(fake):
        return CliRunner().invoke(fim_app(), args, env=environment)


def table(fake: FakeApi, args: list[str]) -> str:
    result = run(fake, [*args, "--format", "table"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "\x1b" not in result.stdout and SECRET not in result.stdout
    return str(result.stdout)


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_hosts_json_and_a_table_that_escapes() -> None:
    document = as_json(run(FimFake(), ["hosts"]))
    assert [h["hostname"] for h in document] == ["web-1", "db\x1b[31m"]
    text = table(FimFake(), ["hosts"])
    assert "db\\x1b[31m" in text and "REFUSED: sig\\x1b[2J" in text
    assert "2 unexplained, 5 package" in text and "2 hosts, 2 with changes to review, 1 refused" in text


def test_changes_pass_the_filters_and_escape_paths() -> None:
    fake = FimFake()
    document = as_json(run(fake, ["changes", "--host", "web-1", "--status", "all", "--cause", "generated"]))
    assert fake.called("fim_changes") == [((FimChangeQuery("web-1", "all", "generated"),), {})]
    assert document[0]["path"] == EVIL_SHOWN and document[0]["attributes"][0]["name"] == "size"
    text = table(FimFake(), ["changes"])
    assert EVIL_SHOWN in text and "\\x1b[31mnote" in text and "package (coreutils)" in text
    assert "changed: size 1 -> 10" in text and "2 changes, 1 open for review" in text
    assert run(FimFake(), ["changes", "--status", "gone"]).exit_code == 2


def test_accept_sends_the_paths_bytes_and_the_reason() -> None:
    fake = FimFake()
    odd = "/srv/caf\udce9"  # a non-UTF-8 name as the shell passes it
    result = run(fake, ["accept", HOST_A, "/etc/passwd", odd, "--reason", "planned", "--format", "table"])
    assert result.exit_code == 0, result.output
    expected = [base64.b64encode(b"/etc/passwd").decode(), base64.b64encode(b"/srv/caf\xe9").decode()]
    assert fake.called("accept_fim_changes") == [
        ((HOST_A, "planned"), {"paths_b64": expected, "all_open": False})
    ]
    assert result.stdout == f"accepted {EVIL_SHOWN}\n1 accepted\n"


def test_accept_all_and_base64_paths() -> None:
    fake = FimFake()
    assert run(fake, ["accept", HOST_A, "--all", "--reason", "rebuilt", "--format", "json"]).exit_code == 0
    assert fake.called("accept_fim_changes")[-1] == ((HOST_A, "rebuilt"), {"paths_b64": [], "all_open": True})
    run(fake, ["accept", HOST_A, "L2V0Yy9wYXNzd2Q=", "--b64", "--reason", "r"])
    assert fake.called("accept_fim_changes")[-1][1]["paths_b64"] == ["L2V0Yy9wYXNzd2Q="]


@pytest.mark.parametrize(
    "args",
    [
        ["accept", HOST_A, "/etc/passwd"],
        ["accept", HOST_A, "/etc/passwd", "--reason", "  "],
        ["accept", HOST_A, "--reason", "why"],
        ["accept", HOST_A, "/etc/passwd", "--all", "--reason", "why"],
        ["accept", HOST_A, "not base64!", "--b64", "--reason", "why"],
    ],
)
def test_accept_refuses_unclear_requests(args: list[str]) -> None:
    fake = FimFake()
    result = run(fake, args)
    assert isinstance(result.exception, UsageError) and not fake.called("accept_fim_changes")


def test_request_asks_for_a_check_by_hostname() -> None:
    fake = FimFake()
    document = as_json(run(fake, ["request", "web-1", "--format", "json"]))
    assert fake.called("request_fim_check") == [((HOST_A,), {})]
    assert document == {"host_id": HOST_A, "job_id": "job-7"}
    assert (
        table(FimFake(), ["request", HOST_A]) == f"file integrity check requested for {HOST_A}: job job-7\n"
    )
    failing = FimFake(fail={"request_fim_check": ApiError(409, "server said 409: not connected")})
    result = run(failing, ["request", HOST_A])
    assert isinstance(result.exception, ApiError) and failing.closed == 1
