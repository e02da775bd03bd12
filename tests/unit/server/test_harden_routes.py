"""Hardening over the API: the result handler (each agent stores for its own host only), team visibility,
per-host scores, fleet-wide failing rules, a host's runs and transitions, and asking an agent to run now
(operators only, audited)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from rampart.harden.model import RuleResult
from rampart.server.results import RESULT_HANDLERS, ResultRejected
from unit.fleet.harden_samples import harden_bytes, rule
from unit.server.server_helpers import Api

EVIL = "evil \x1b]0;owned\x07"


def deliver(api: Api, host_id: str, data: bytes | None = None, result_id: str | None = None) -> str:
    """Hand a harden result to the server as the host's agent would; the handler's answer."""
    result_id = result_id or str(uuid.uuid4())
    data = data if data is not None else harden_bytes([rule("ssh.a", "fail")], result_id=result_id)
    return RESULT_HANDLERS["harden"](api.state, host_id, result_id, data)


def report(api: Api, host_id: str, results: list[RuleResult], profile: str = "ssh-server") -> None:
    result_id = str(uuid.uuid4())
    data = harden_bytes(results, api.clock.now, profile=profile, result_id=result_id)
    assert deliver(api, host_id, data, result_id) == "stored"


def get(api: Api, token: str, path: str, **params: Any) -> Any:
    response = api.call("GET", path, token, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def fleet(api: Api) -> dict[str, str]:
    """Three hosts (red, blue, untagged): ssh.root fails everywhere, ssh.tries on red only."""
    hosts = {
        "red": api.host("red-1", {"team": "red"}),
        "blue": api.host("blue-1", {"team": "blue"}),
        "none": api.host("shared-1"),
    }
    for name, host_id in hosts.items():
        tries = "fail" if name == "red" else "pass"
        report(
            api,
            host_id,
            [
                rule("ssh.root", "fail", "high", (EVIL,)),
                rule("ssh.tries", tries, "medium"),
                rule("ssh.banner", "na"),
            ],
        )
    return hosts


def test_the_handler_stores_dedups_and_rejects(api: Api) -> None:
    host_id = api.host("web-1")
    result_id = str(uuid.uuid4())
    data = harden_bytes([rule("ssh.a", "fail")], result_id=result_id)
    assert deliver(api, host_id, data, result_id) == "stored"
    assert deliver(api, host_id, data, result_id) == "duplicate"
    with pytest.raises(ResultRejected, match="differs from the result id"):
        deliver(api, host_id, data, str(uuid.uuid4()))
    with pytest.raises(ResultRejected, match="not valid UTF-8 JSON"):
        deliver(api, host_id, data[:-5], result_id)
    hostile = data.replace(b'"ssh.a"', b'"../../x"')
    with pytest.raises(ResultRejected, match="not a valid identifier"):
        deliver(api, host_id, hostile, result_id)
    (listed,) = get(api, api.admin_token, "/harden/hosts")
    assert (
        listed["profile"] == "ssh-server" and listed["run"]["score"] == 0.0 and listed["run"]["failed"] == 1
    )


def test_an_agent_stores_results_for_its_own_host_only(api: Api) -> None:
    """The handler is given the host of the agent's link; the document names no host, so an agent cannot
    write another host's results, and a result id another host already used is not taken over."""
    red, blue = api.host("red-1"), api.host("blue-1")
    result_id = str(uuid.uuid4())
    data = harden_bytes([rule("ssh.a", "fail")], result_id=result_id)
    assert deliver(api, red, data, result_id) == "stored"
    assert deliver(api, blue, data, result_id) == "duplicate"
    assert get(api, api.admin_token, "/harden/hosts/blue-1/results") == []
    assert get(api, api.admin_token, "/harden/hosts/blue-1/runs")["total"] == 0
    assert [r["rule"] for r in get(api, api.admin_token, "/harden/hosts/red-1/results")] == ["ssh.a"]
    with pytest.raises(Exception, match="unknown host"):
        deliver(api, "h-0000000000000000")


def test_a_team_viewer_sees_only_their_team_and_untagged_hosts(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("vic", ["viewer"], {"team": "red"})
    listed = get(api, token, "/harden/hosts")
    assert {h["host_id"] for h in listed} == {fleet["red"], fleet["none"]}
    failing = get(api, token, "/harden/rules")
    assert [(r["rule"], r["hosts"], r["hostnames"]) for r in failing] == [
        ("ssh.root", 2, ["red-1", "shared-1"]),
        ("ssh.tries", 1, ["red-1"]),
    ]
    assert get(api, api.admin_token, "/harden/rules")[0]["hosts"] == 3
    assert api.call("GET", "/harden/hosts/blue-1/runs", token).status_code == 404
    assert api.call("GET", f"/harden/hosts/{fleet['blue']}/results", token).status_code == 404
    assert get(api, token, "/harden/hosts/red-1/runs")["total"] == 1


def test_scores_rules_and_results_read_back(api: Api, fleet: dict[str, str]) -> None:
    red = {h["host_id"]: h for h in get(api, api.admin_token, "/harden/hosts")}[fleet["red"]]
    run = red["run"]
    assert (run["score"], run["passed"], run["failed"], run["na"], run["profile_title"]) == (
        0.0,
        0,
        2,
        1,
        "SSH server",
    )
    assert red["last_error"] is None
    results = get(api, api.admin_token, "/harden/hosts/red-1/results")
    assert [(r["rule"], r["status"]) for r in results] == [
        ("ssh.root", "fail"),
        ("ssh.tries", "fail"),
        ("ssh.banner", "na"),
    ]
    assert results[0]["evidence"] == [EVIL.replace("\x1b", "\\x1b").replace("\x07", "\\x07")]
    assert results[0]["cis"] == ["5.1.16"] and results[0]["previous_status"] is None
    assert [r["rule"] for r in get(api, api.admin_token, "/harden/hosts/red-1/results", status="na")] == [
        "ssh.banner"
    ]
    passing = get(api, api.admin_token, "/harden/rules", status="pass")
    assert [(r["rule"], r["hosts"]) for r in passing] == [("ssh.tries", 2)]
    assert get(api, api.admin_token, "/harden/rules", profile="other") == []
    for bad in ({"status": "gone"}, {"profile": "../x"}):
        assert api.call("GET", "/harden/rules", api.admin_token, params=bad).status_code == 422


def test_changes_over_time(api: Api, fleet: dict[str, str]) -> None:
    api.clock.advance(timedelta(hours=1))
    report(
        api,
        fleet["red"],
        [rule("ssh.root", "pass", "high"), rule("ssh.tries", "fail"), rule("ssh.banner", "na")],
    )
    runs = get(api, api.admin_token, "/harden/hosts/red-1/runs")
    assert runs["total"] == 2 and [r["score"] for r in runs["items"]] == [50.0, 0.0]
    assert (
        get(api, api.admin_token, "/harden/hosts/red-1/runs", limit=1, offset=1)["items"][0]["score"] == 0.0
    )
    changed = get(api, api.admin_token, "/harden/hosts/red-1/results", changed="true")
    assert [(c["rule"], c["previous_status"], c["status"]) for c in changed] == [("ssh.root", "fail", "pass")]
    (red,) = [h for h in get(api, api.admin_token, "/harden/hosts") if h["host_id"] == fleet["red"]]
    assert red["run"]["score"] == 50.0
    assert [r["hosts"] for r in get(api, api.admin_token, "/harden/rules")] == [2, 1]


def test_a_host_without_a_run_is_listed_empty(api: Api) -> None:
    host_id = api.host("quiet-1")
    assert get(api, api.admin_token, "/harden/hosts") == [
        {"host_id": host_id, "hostname": "quiet-1", "profile": None, "run": None, "last_error": None}
    ]


def test_request_sends_a_harden_job_to_the_agent_and_is_audited(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    assert api.call("POST", f"/harden/hosts/{fleet['red']}/request", token, json={}).status_code == 409
    api.connect_agent(fleet["red"])
    response = api.call("POST", "/harden/hosts/red-1/request", token, json={"profile": "debian12-l2-server"})
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert api.sent_jobs == [
        {"type": "job", "job_id": job_id, "kind": "harden", "params": {"profile": "debian12-l2-server"}}
    ]
    assert (
        api.call("POST", "/harden/hosts/red-1/request", token).status_code == 202
    )  # no body: its own profile
    assert api.sent_jobs[-1]["params"] == {}
    event = next(e for e in api.audit() if e.action == "harden.request")
    assert (event.actor, event.target, event.details["job"], event.details["profile"]) == (
        "opal",
        f"host:{fleet['red']}",
        job_id,
        "debian12-l2-server",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"profile": "../../etc/shadow"},
        {"profile": "/etc/x.yml"},
        {"profile": "x" * 81},
        {"profile": 3},
        {"other": 1},
    ],
)
def test_a_request_naming_anything_but_a_profile_id_is_refused(
    api: Api, fleet: dict[str, str], body: dict[str, Any]
) -> None:
    api.connect_agent(fleet["red"])
    assert api.call("POST", "/harden/hosts/red-1/request", api.admin_token, json=body).status_code == 422
    assert api.sent_jobs == []


def test_viewers_auditors_and_read_tokens_read_but_cannot_request(api: Api, fleet: dict[str, str]) -> None:
    api.connect_agent(fleet["red"])
    viewer = api.user("vic", ["viewer"])
    auditor = api.user("audrey", ["auditor"])
    read_only = api.token(api.admin_token, ["read"])["token"]
    for token in (viewer, auditor, read_only):
        assert len(get(api, token, "/harden/hosts")) == 3
        assert get(api, token, "/harden/hosts/red-1/runs")["total"] == 1
        assert api.call("POST", f"/harden/hosts/{fleet['red']}/request", token, json={}).status_code == 403
    assert api.sent_jobs == []
    denials = [e for e in api.audit() if e.action == "authz.deny"]
    assert {e.details["action"] for e in denials} == {"harden.request"}


def test_a_team_operator_cannot_reach_another_teams_host(api: Api, fleet: dict[str, str]) -> None:
    api.connect_agent(fleet["blue"])
    token = api.user("opal", ["operator"], {"team": "red"})
    response = api.call("POST", "/harden/hosts/blue-1/request", token, json={})
    assert (response.status_code, response.json()["detail"]) == (404, "no such host")
    assert api.sent_jobs == []


def test_unauthenticated_calls_are_refused(api: Api, fleet: dict[str, str]) -> None:
    for path in ("/harden/hosts", "/harden/rules", "/harden/hosts/red-1/runs", "/harden/hosts/red-1/results"):
        assert api.call("GET", path).status_code == 401
    assert api.call("POST", "/harden/hosts/red-1/request", json={}).status_code == 401
