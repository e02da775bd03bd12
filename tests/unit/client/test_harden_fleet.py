"""The fleet hardening client methods (httpx.MockTransport) and ``rampart harden hosts|failing|history|request``
(a Typer group with ``register`` applied, the ApiClient double injected): paths, bodies, paging, JSON when
piped, tables that escape everything a host reported."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from rampart.cli.harden_fleet import register
from rampart.client.models import HardenHost, HardenRuleCount, HardenRuleStatus, HardenRun
from rampart.errors import ApiError
from unit.client.fake import SECRET, FakeApi, injected
from unit.client.samples import HOST_A
from unit.client.test_api import client
from unit.client.test_registry_api import Recorder

WHEN = "2026-01-01T00:00:00Z"
EVIL = "db\x1b[31m"


def run_json(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": "11111111-1111-4111-8111-111111111111",
        "profile": "ssh-server",
        "profile_title": "SSH server",
        "benchmark": "debian12",
        "target_kind": "host",
        "job_id": None,
        "started": WHEN,
        "received_at": WHEN,
        "duration_seconds": 1.5,
        "score": 75.0,
        "passed": 3,
        "failed": 1,
        "na": 2,
        "errors": 0,
        "manual": 1,
        "error": None,
    }
    return {**value, **fields}


def host_json(**fields: Any) -> dict[str, Any]:
    value = {
        "host_id": HOST_A,
        "hostname": "web-1",
        "profile": "ssh-server",
        "run": run_json(),
        "last_error": None,
    }
    return {**value, **fields}


def rule_json(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "rule": "ssh.root-login",
        "title": "Root cannot log in over SSH",
        "section": "5.1 SSH server",
        "severity": "high",
        "cis": ["5.1.20"],
        "hosts": 7,
        "hostnames": ["a", "b", "c", "d", "e", "f", "g"],
    }
    return {**value, **fields}


def status_json(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "profile": "ssh-server",
        "rule": "ssh.root-login",
        "title": "Root cannot log in over SSH",
        "section": "5.1 SSH server",
        "cis": ["5.1.20"],
        "severity": "high",
        "status": "pass",
        "evidence": ["/etc/ssh/sshd_config:3: PermitRootLogin no"],
        "reason": "",
        "run_id": "r",
        "checked_at": WHEN,
        "previous_status": "fail",
        "changed_at": WHEN,
    }
    return {**value, **fields}


# --- the client ---------------------------------------------------------------------------------


def test_hosts_and_rules_are_read_strictly() -> None:
    handler = Recorder(body=[host_json(), host_json(profile=None, run=None)])
    hosts = client(handler).harden_hosts("ssh-server")
    assert (handler.last.method, handler.raw_path()) == ("GET", "/api/v1/harden/hosts")
    assert list(handler.last.url.params.multi_items()) == [("profile", "ssh-server")]
    assert hosts[0].run is not None and hosts[0].run.score == 75.0 and hosts[1].run is None
    with pytest.raises(ApiError, match=r"harden hosts 0\.run\.passed is not an integer"):
        client(Recorder(body=[host_json(run=run_json(passed="3"))])).harden_hosts()
    rules = Recorder(body=[rule_json()])
    assert client(rules).harden_rules()[0].hosts == 7
    assert (rules.raw_path(), list(rules.last.url.params.multi_items())) == (
        "/api/v1/harden/rules",
        [("status", "fail")],
    )
    client(rules).harden_rules("error", "ssh-server")
    assert list(rules.last.url.params.multi_items()) == [("status", "error"), ("profile", "ssh-server")]
    with pytest.raises(ApiError, match="lacks field 'hosts'"):
        client(Recorder(body=[{k: v for k, v in rule_json().items() if k != "hosts"}])).harden_rules()


def test_runs_follow_pages_up_to_the_limit_and_results_send_filters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"total": 5, "items": [run_json(), run_json()]})

    runs = client(handler).harden_runs("web 1/x", "ssh-server", limit=3, page_size=2)
    assert len(runs) == 3 and isinstance(runs[0], HardenRun)
    assert [r.url.raw_path.decode() for r in seen] == [
        "/api/v1/harden/hosts/web%201%2Fx/runs?profile=ssh-server&limit=2&offset=0",
        "/api/v1/harden/hosts/web%201%2Fx/runs?profile=ssh-server&limit=1&offset=2",
    ]
    results = Recorder(body=[status_json()])
    assert client(results).harden_results(HOST_A, status="fail", changed=True)[0].previous_status == "fail"
    assert results.raw_path() == f"/api/v1/harden/hosts/{HOST_A}/results"
    assert list(results.last.url.params.multi_items()) == [("status", "fail"), ("changed", "true")]


def test_request_posts_the_profile_and_maps_errors() -> None:
    handler = Recorder(202, {"job_id": "j-1"})
    assert client(handler).request_harden_run(HOST_A, "debian12-l2-server") == "j-1"
    assert (handler.last.method, handler.raw_path()) == ("POST", f"/api/v1/harden/hosts/{HOST_A}/request")
    assert handler.body_json() == {"profile": "debian12-l2-server"}
    client(handler).request_harden_run(HOST_A)
    assert handler.body_json() == {}
    refused = Recorder(409, {"detail": "the host's agent is not connected"})
    with pytest.raises(ApiError, match="server said 409: the host's agent is not connected"):
        client(refused).request_harden_run(HOST_A)


# --- the commands -------------------------------------------------------------------------------


@dataclass
class HardenFake(FakeApi):
    """FakeApi with the fleet hardening methods."""

    harden_hosts_list: list[HardenHost] = field(
        default_factory=lambda: [
            HardenHost.from_json(host_json()),
            HardenHost.from_json(
                host_json(
                    host_id="h-00000000000000bb",
                    hostname=EVIL,
                    run=None,
                    last_error=run_json(error="no profile '\x1b[2J'"),
                )
            ),
        ]
    )

    def harden_hosts(self, profile: str | None = None) -> list[HardenHost]:
        self._record("harden_hosts", profile)
        return self.harden_hosts_list

    def harden_rules(self, status: str = "fail", profile: str | None = None) -> list[HardenRuleCount]:
        self._record("harden_rules", status, profile)
        return [HardenRuleCount.from_json(rule_json(title="Root \x1b[31mlogin"))]

    def harden_runs(
        self, host: str, profile: str | None = None, *, limit: int | None = None
    ) -> list[HardenRun]:
        self._record("harden_runs", host, profile, limit=limit)
        return [HardenRun.from_json(run_json()), HardenRun.from_json(run_json(score=0.0, error="bad rules"))]

    def harden_results(
        self, host: str, profile: str | None = None, status: str | None = None, *, changed: bool = False
    ) -> list[HardenRuleStatus]:
        self._record("harden_results", host, profile, status, changed=changed)
        return [HardenRuleStatus.from_json(status_json())]

    def request_harden_run(self, host: str, profile: str | None = None) -> str:
        self._record("request_harden_run", host, profile)
        return "job-7"


def harden_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def group() -> None:
        """rampart harden (for tests: only the fleet commands)."""

    register(app)
    return app


def run(fake: FakeApi, args: list[str]) -> Any:
    environment = {
        "COLUMNS": "200",
        "RAMPART_SERVER": "https://rampart.example:8443",
        "RAMPART_TOKEN": SECRET,
    }
    with injected(fake):
        return CliRunner().invoke(harden_app(), args, env=environment)


def table(fake: FakeApi, args: list[str]) -> str:
    result = run(fake, [*args, "--format", "table"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "\x1b" not in result.stdout and SECRET not in result.stdout
    return str(result.stdout)


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def test_hosts_json_and_a_table_that_escapes() -> None:
    fake = HardenFake()
    document = as_json(run(fake, ["hosts", "--profile", "ssh-server"]))
    assert fake.called("harden_hosts") == [(("ssh-server",), {})]
    assert [h["hostname"] for h in document] == ["web-1", EVIL] and document[0]["run"]["score"] == 75.0
    text = table(HardenFake(), ["hosts"])
    assert "75.0%" in text and "3 pass, 1 fail, 2 na, 1 manual" in text
    assert "db\\x1b[31m" in text and "no profile '\\x1b[2J'" in text
    assert "2 hosts, 1 scored, average score 75.0%, 1 failed runs" in text


def test_failing_counts_hosts_and_escapes_titles() -> None:
    fake = HardenFake()
    document = as_json(run(fake, ["failing", "--status", "error", "--profile", "ssh-server"]))
    assert fake.called("harden_rules") == [(("error", "ssh-server"), {})]
    assert document[0]["rule"] == "ssh.root-login" and document[0]["hosts"] == 7
    text = table(HardenFake(), ["failing"])
    assert "Root \\x1b[31mlogin" in text and "5.1.20" in text and "a, b, c, d, e, ..." in text
    assert "1 rules with status fail" in text
    assert run(HardenFake(), ["failing", "--status", "broken"]).exit_code == 2


def test_history_shows_runs_and_transitions() -> None:
    fake = HardenFake()
    document = as_json(run(fake, ["history", HOST_A, "--limit", "5"]))
    assert fake.called("harden_runs") == [((HOST_A, None), {"limit": 5})]
    assert fake.called("harden_results") == [((HOST_A, None, None), {"changed": True})]
    assert document["host_id"] == HOST_A and len(document["runs"]) == 2
    assert document["changes"][0]["previous_status"] == "fail"
    text = table(HardenFake(), ["history", HOST_A])
    assert "75.0%" in text and "bad rules" in text and "ssh.root-login" in text
    assert "2 runs, 1 rules changed status" in text


def test_request_asks_for_a_run_by_hostname() -> None:
    fake = HardenFake()
    document = as_json(run(fake, ["request", "web-1", "--profile", "ssh-server", "--format", "json"]))
    assert fake.called("request_harden_run") == [((HOST_A, "ssh-server"), {})]
    assert document == {"host_id": HOST_A, "job_id": "job-7"}
    assert table(HardenFake(), ["request", HOST_A]) == f"hardening run requested for {HOST_A}: job job-7\n"
    failing = HardenFake(fail={"request_harden_run": ApiError(409, "server said 409: not connected")})
    result = run(failing, ["request", HOST_A])
    assert isinstance(result.exception, ApiError) and failing.closed == 1
