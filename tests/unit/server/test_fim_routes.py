"""File integrity over the API: the result handler, team visibility, accepting (operators only, audited),
asking an agent to check now."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest

from rampart.fim.model import Cause
from rampart.server.results import RESULT_HANDLERS, ResultRejected
from unit.fleet.fim_samples import changed, fim_bytes
from unit.server.server_helpers import Api

EVIL = b"/tmp/\x1b]0;owned\x07\xff"


def b64(path: bytes) -> str:
    return base64.b64encode(path).decode()


def deliver(api: Api, host_id: str, data: bytes | None = None, result_id: str | None = None) -> str:
    """Hand a fim result to the server as the host's agent would; the handler's answer."""
    result_id = result_id or str(uuid.uuid4())
    data = data if data is not None else fim_bytes([changed(b"/etc/passwd", 10)], result_id=result_id)
    return RESULT_HANDLERS["fim"](api.state, host_id, result_id, data)


def report(api: Api, host_id: str, changes: list[Any], **options: Any) -> None:
    result_id = str(uuid.uuid4())
    at = api.clock.now
    assert (
        deliver(api, host_id, fim_bytes(changes, at, result_id=result_id, **options), result_id) == "stored"
    )


@pytest.fixture
def fleet(api: Api) -> dict[str, str]:
    """Three hosts (red, blue, untagged), each with two unexplained changes and one package change."""
    hosts = {
        "red": api.host("red-1", {"team": "red"}),
        "blue": api.host("blue-1", {"team": "blue"}),
        "none": api.host("shared-1"),
    }
    for host_id in hosts.values():
        report(
            api,
            host_id,
            [
                changed(b"/usr/bin/ls", 4, Cause.PACKAGE, "coreutils"),
                changed(b"/etc/passwd", 10),
                changed(EVIL, 3),
            ],
        )
    return hosts


def changes(api: Api, token: str, **params: Any) -> dict[str, Any]:
    response = api.call("GET", "/fim/changes", token, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def accept(api: Api, token: str, **body: Any) -> Any:
    return api.call("POST", "/fim/changes/accept", token, json={"reason": "planned upgrade", **body})


def test_the_handler_stores_dedups_and_rejects(api: Api) -> None:
    host_id = api.host("web-1")
    result_id = str(uuid.uuid4())
    data = fim_bytes([changed(b"/etc/passwd", 10)], result_id=result_id)
    assert deliver(api, host_id, data, result_id) == "stored"
    assert deliver(api, host_id, data, result_id) == "duplicate"
    with pytest.raises(ResultRejected, match="differs from the result id"):
        deliver(api, host_id, data, str(uuid.uuid4()))
    with pytest.raises(ResultRejected, match="not valid UTF-8 JSON"):
        deliver(api, host_id, data[:-5], result_id)
    hosts = api.call("GET", "/fim/hosts", api.admin_token).json()
    assert hosts[0]["checked_at"] is not None and hosts[0]["open"] == {"unexplained": 1}


def test_a_refused_baseline_is_an_audited_alarm(api: Api) -> None:
    host_id = api.host("web-1")
    report(api, host_id, [changed(b"/etc/passwd", 10)])
    api.clock.advance(timedelta(minutes=5))
    report(api, host_id, [], refused="the baseline's signature does not verify")
    alarm = [e for e in api.audit() if e.action == "fim.refused"]
    assert len(alarm) == 1
    assert (alarm[0].actor, alarm[0].target, alarm[0].outcome.value) == (f"host:{host_id}",) * 2 + (
        "failure",
    )
    assert alarm[0].details["reason"] == "the baseline's signature does not verify"
    listed = api.call("GET", "/fim/hosts", api.admin_token).json()[0]
    assert listed["refused"] == "the baseline's signature does not verify"
    assert listed["open"] == {"unexplained": 1}  # the changes are left as they were


def test_a_team_viewer_sees_only_their_team_and_untagged_hosts(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("vic", ["viewer"], {"team": "red"})
    listed = api.call("GET", "/fim/hosts", token).json()
    assert {h["host_id"] for h in listed} == {fleet["red"], fleet["none"]}
    assert all(h["open"] == {"unexplained": 2, "package": 1} and h["entries"] == 100 for h in listed)
    page = changes(api, token)
    assert page["total"] == 6 and {i["host_id"] for i in page["items"]} == {fleet["red"], fleet["none"]}
    assert changes(api, token, host=fleet["blue"]) == {"total": 0, "items": []}
    assert changes(api, token, host="red-1")["total"] == 3
    assert changes(api, api.admin_token)["total"] == 9


def test_changes_come_worst_first_with_escaped_paths(api: Api, fleet: dict[str, str]) -> None:
    page = changes(api, api.admin_token, host="red-1")
    assert [(i["path"], i["cause"]) for i in page["items"]] == [
        ("/etc/passwd", "unexplained"),
        ("/tmp/\\x1b]0;owned\\x07\\xff", "unexplained"),
        ("/usr/bin/ls", "package"),
    ]
    evil = page["items"][1]
    assert base64.b64decode(evil["path_b64"]) == EVIL and "\x1b" not in evil["path"]
    assert evil["attributes"] == [{"name": "size", "before": "1", "after": "3"}]
    assert changes(api, api.admin_token, cause="package")["total"] == 3
    second = changes(api, api.admin_token, host="red-1", limit=1, offset=1)
    assert second["total"] == 3 and [i["path"] for i in second["items"]] == [evil["path"]]
    assert api.call("GET", "/fim/changes", api.admin_token, params={"status": "gone"}).status_code == 422
    assert api.call("GET", "/fim/changes", api.admin_token, params={"cause": "x"}).status_code == 422


def test_an_operator_accepts_and_the_acceptance_is_audited(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    response = accept(api, token, host="red-1", paths_b64=[b64(EVIL), b64(b"/etc/passwd")])
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert [(a["path"], a["status"], a["accepted_by"]) for a in accepted] == [
        ("/etc/passwd", "accepted", "opal"),
        ("/tmp/\\x1b]0;owned\\x07\\xff", "accepted", "opal"),
    ]
    assert accepted[0]["accepted_reason"] == "planned upgrade" and accepted[0]["accepted_at"] is not None
    event = [e for e in api.audit() if e.action == "fim.accept"][-1]
    assert (event.actor, event.target, event.outcome.value) == ("opal", f"host:{fleet['red']}", "success")
    assert event.details["count"] == 2 and event.details["reason"] == "planned upgrade"
    assert event.details["first_path"] == "/etc/passwd"
    assert changes(api, token, host="red-1")["total"] == 1
    assert changes(api, token, host="red-1", status="accepted")["total"] == 2
    assert changes(api, token, host="red-1", status="all")["total"] == 3
    listed = {h["host_id"]: h for h in api.call("GET", "/fim/hosts", token).json()}
    assert listed[fleet["red"]]["accepted"] == 2 and listed[fleet["red"]]["open"] == {"package": 1}


def test_accepting_every_open_change_then_a_new_state_reopens(api: Api, fleet: dict[str, str]) -> None:
    response = accept(api, api.admin_token, host=fleet["none"], all_open=True)
    assert len(response.json()) == 3
    api.clock.advance(timedelta(minutes=5))
    report(api, fleet["none"], [changed(b"/usr/bin/ls", 4, Cause.PACKAGE), changed(b"/etc/passwd", 11)])
    page = changes(api, api.admin_token, host="shared-1", status="all")
    assert {i["path"]: i["status"] for i in page["items"]} == {
        "/etc/passwd": "open",
        "/usr/bin/ls": "accepted",
        "/tmp/\\x1b]0;owned\\x07\\xff": "resolved",
    }


def test_viewers_auditors_and_read_tokens_cannot_accept_or_check(api: Api, fleet: dict[str, str]) -> None:
    viewer = api.user("vic", ["viewer"])
    auditor = api.user("audrey", ["auditor"])
    read_only = api.token(api.admin_token, ["read"])["token"]
    for token in (viewer, auditor, read_only):
        assert changes(api, token)["total"] == 9
        assert accept(api, token, host="red-1", all_open=True).status_code == 403
        assert api.call("POST", f"/hosts/{fleet['red']}/fim/check", token).status_code == 403
    assert changes(api, api.admin_token, status="accepted")["total"] == 0
    denials = [e for e in api.audit() if e.action == "authz.deny"]
    assert {e.details["action"] for e in denials} == {"fim.accept", "fim.check"}


def test_a_team_operator_cannot_reach_another_teams_host(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    response = accept(api, token, host="blue-1", all_open=True)
    assert (response.status_code, response.json()["detail"]) == (404, "no such host")
    assert api.call("POST", f"/hosts/{fleet['blue']}/fim/check", token).status_code == 404
    assert changes(api, api.admin_token, host="blue-1", status="accepted")["total"] == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"host": "red-1"}, 422),
        ({"host": "red-1", "all_open": True, "paths_b64": [b64(b"/etc/passwd")]}, 422),
        ({"host": "red-1", "paths_b64": []}, 422),
        ({"host": "red-1", "paths_b64": [b64(b"/a")] * 1001}, 422),
        ({"host": "red-1", "paths_b64": ["***"]}, 422),
        ({"host": "red-1", "all_open": True, "reason": ""}, 422),
        ({"host": "red-1", "all_open": True, "reason": "   "}, 422),
        ({"host": "red-1", "all_open": True, "reason": "x" * 1001}, 422),
        ({"host": "red-1", "all_open": True, "reason": "ok\x1b[2J"}, 422),
        ({"host": "red-1", "all_open": True, "extra": 1}, 422),
        ({"host": "red-1", "paths_b64": [b64(b"/etc/passwd"), b64(b"/not/changed")]}, 409),
        ({"host": "nowhere", "all_open": True}, 404),
    ],
)
def test_bad_acceptances_are_refused_and_change_nothing(
    api: Api, fleet: dict[str, str], body: dict[str, Any], status: int
) -> None:
    response = api.call("POST", "/fim/changes/accept", api.admin_token, json={"reason": "r", **body})
    assert response.status_code == status, response.text
    assert changes(api, api.admin_token, status="accepted")["total"] == 0


def test_accepting_a_change_already_accepted_is_a_conflict(api: Api, fleet: dict[str, str]) -> None:
    paths = [b64(b"/etc/passwd")]
    assert accept(api, api.admin_token, host="red-1", paths_b64=paths).status_code == 200
    again = accept(api, api.admin_token, host="red-1", paths_b64=paths)
    assert again.status_code == 409 and "not open changes" in again.json()["detail"]


def test_check_now_sends_a_fim_job_to_the_agent(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    assert api.call("POST", f"/hosts/{fleet['red']}/fim/check", token).status_code == 409
    api.connect_agent(fleet["red"])
    response = api.call("POST", "/hosts/red-1/fim/check", token)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert api.sent_jobs == [{"type": "job", "job_id": job_id, "kind": "fim", "params": {}}]
    event = [e for e in api.audit() if e.action == "fim.check"][-1]
    assert (event.actor, event.target, event.details["job"]) == ("opal", f"host:{fleet['red']}", job_id)


def test_a_host_without_a_check_is_listed_empty(api: Api) -> None:
    host_id = api.host("quiet-1")
    listed = api.call("GET", "/fim/hosts", api.admin_token).json()
    assert listed == [
        {
            "host_id": host_id,
            "hostname": "quiet-1",
            "checked_at": None,
            "baseline_created": "",
            "baseline_digest": "",
            "key_id": "",
            "entries": 0,
            "unreadable": 0,
            "refused": "",
            "open": {},
            "accepted": 0,
        }
    ]
