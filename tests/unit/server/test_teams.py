"""Team tags: a non-admin with team=X sees and acts only on hosts of team X and untagged hosts."""

from __future__ import annotations

import pytest

from unit.server.server_helpers import Api


@pytest.fixture
def fleet(api: Api) -> dict[str, str]:
    """Three hosts (red, blue, untagged), each with one finding."""
    hosts = {
        "red": api.host("red-1", {"team": "red", "env": "prod"}),
        "blue": api.host("blue-1", {"team": "blue"}),
        "none": api.host("shared-1"),
    }
    for name, host_id in hosts.items():
        api.finding(host_id, f"pkg-{name}", f"CVE-2026-{len(name)}000")
    return hosts


def test_viewer_of_team_red_sees_red_and_untagged_hosts(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("vic", ["viewer"], {"team": "red"})
    listed = api.call("GET", "/hosts", token).json()
    assert {h["id"] for h in listed} == {fleet["red"], fleet["none"]}
    findings = api.call("GET", "/findings", token).json()
    assert findings["total"] == 2
    assert {f["host_id"] for f in findings["items"]} == {fleet["red"], fleet["none"]}
    summary = api.call("GET", "/findings/summary", token, params={"by": "host"}).json()
    assert {s["host_id"] for s in summary} == {fleet["red"], fleet["none"]}
    assert api.call("GET", "/findings/summary", token).json()["hosts"] == 2


def test_admin_and_untagged_viewer_see_every_host(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("vic", ["viewer"])
    for caller in (api.admin_token, token):
        assert {h["id"] for h in api.call("GET", "/hosts", caller).json()} == set(fleet.values())
        assert api.call("GET", "/findings", caller).json()["total"] == 3


def test_viewer_of_team_red_cannot_reach_a_blue_host(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("vic", ["viewer"], {"team": "red"})
    for path in (f"/hosts/{fleet['blue']}", "/hosts/blue-1", f"/hosts/{fleet['blue']}/packages"):
        answer = api.call("GET", path, token)
        assert (answer.status_code, answer.json()["detail"]) == (404, "no such host"), path
    by_host = api.call("GET", "/findings", token, params={"host": fleet["blue"]}).json()
    assert by_host == {"total": 0, "items": []}
    by_tag = api.call("GET", "/hosts", token, params={"tag": "team=blue"}).json()
    assert by_tag == []
    assert api.call("GET", f"/hosts/{fleet['red']}", token).status_code == 200


def test_operator_of_team_red_acts_only_on_red_and_untagged(api: Api, fleet: dict[str, str]) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    assert api.call("POST", "/join-tokens", token, json={"tags": {"team": "blue"}}).status_code == 403
    assert api.call("POST", "/join-tokens", token, json={"tags": {"team": "red"}}).status_code == 201
    assert api.call("POST", f"/hosts/{fleet['blue']}/revoke", token).status_code == 404
    assert api.call("GET", f"/hosts/{fleet['blue']}", api.admin_token).json()["revoked_at"] is None
    assert api.call("POST", f"/hosts/{fleet['red']}/revoke", token).json()["status"] == "revoked"


def test_a_team_operators_join_tokens_carry_their_team(api: Api) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    created = api.call("POST", "/join-tokens", token, json={"tags": {"env": "prod"}}).json()
    assert created["tags"] == {"env": "prod", "team": "red"}


def test_operator_of_team_red_cannot_delete_a_blue_join_token(api: Api) -> None:
    blue = api.call("POST", "/join-tokens", api.admin_token, json={"tags": {"team": "blue"}}).json()
    token = api.user("opal", ["operator"], {"team": "red"})
    assert api.call("DELETE", f"/join-tokens/{blue['id']}", token).status_code == 403
    assert blue["id"] in {t["id"] for t in api.call("GET", "/join-tokens", api.admin_token).json()}


def test_tag_filter_narrows_the_host_list(api: Api, fleet: dict[str, str]) -> None:
    listed = api.call("GET", "/hosts", api.admin_token, params={"tag": "env=prod"}).json()
    assert [h["id"] for h in listed] == [fleet["red"]]
    findings = api.call("GET", "/findings", api.admin_token, params={"tag": "team=blue"}).json()
    assert [f["host_id"] for f in findings["items"]] == [fleet["blue"]]
