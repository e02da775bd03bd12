"""User administration: admin-only CRUD, the password policy, and what a denial leaves in the audit log."""

from __future__ import annotations

import pytest

from unit.server.server_helpers import ADMIN, PASSWORD, Api


def test_admin_creates_lists_updates_and_deletes_a_user(api: Api) -> None:
    created = api.call(
        "POST",
        "/users",
        api.admin_token,
        json={"name": "ann", "password": PASSWORD, "roles": ["viewer", "viewer"]},
    )
    assert created.status_code == 201
    assert created.json() == {
        **created.json(),
        "name": "ann",
        "roles": ["viewer"],
        "tags": {},
        "disabled": False,
    }
    assert {u["name"] for u in api.call("GET", "/users", api.admin_token).json()} == {ADMIN, "ann"}
    patch = {"roles": ["operator"], "tags": {"team": "red"}, "password": "another-long-secret-9"}
    updated = api.call("PATCH", "/users/ann", api.admin_token, json=patch)
    assert updated.status_code == 200
    assert (updated.json()["roles"], updated.json()["tags"]) == (["operator"], {"team": "red"})
    assert api.login("ann", "another-long-secret-9")
    assert api.call("DELETE", "/users/ann", api.admin_token).status_code == 204
    assert api.call("GET", "/users", api.admin_token).json()[0]["name"] == ADMIN
    assert api.call("DELETE", "/users/ann", api.admin_token).status_code == 404


def test_duplicate_user_is_409(api: Api) -> None:
    api.create_user("ann", ["viewer"])
    body = {"name": "ann", "password": PASSWORD}
    assert api.call("POST", "/users", api.admin_token, json=body).status_code == 409


@pytest.mark.parametrize("password", ["short", "a" * 20, "x" * 1025, "has\x00control-chars"])
def test_password_policy_is_enforced_with_422(api: Api, password: str) -> None:
    response = api.call("POST", "/users", api.admin_token, json={"name": "ann", "password": password})
    assert response.status_code == 422
    assert password not in response.text


def test_admin_cannot_delete_themselves(api: Api) -> None:
    assert api.call("DELETE", f"/users/{ADMIN}", api.admin_token).status_code == 409


def test_unknown_user_is_404(api: Api) -> None:
    assert api.call("PATCH", "/users/nobody", api.admin_token, json={"disabled": True}).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "operator", "auditor"])
def test_non_admins_cannot_manage_users(api: Api, role: str) -> None:
    token = api.user("pat", [role])
    api.create_user("ann", ["viewer"])
    calls = [
        ("GET", "/users", None),
        ("POST", "/users", {"name": "eve", "password": PASSWORD, "roles": ["admin"]}),
        ("PATCH", "/users/pat", {"roles": ["admin"]}),
        ("PATCH", "/users/ann", {"disabled": True}),
        ("DELETE", "/users/ann", None),
    ]
    for method, path, body in calls:
        response = api.call(method, path, token, json=body)
        assert response.status_code == 403, (method, path, response.text)
    names = {u["name"]: u for u in api.call("GET", "/users", api.admin_token).json()}
    assert set(names) == {ADMIN, "pat", "ann"}
    assert names["pat"]["roles"] == [role]
    assert names["ann"]["disabled"] is False


def test_a_denial_by_policy_is_audited_without_a_deciding_policy(api: Api) -> None:
    token = api.user("vic", ["viewer"])
    assert api.call("GET", "/users", token).status_code == 403
    deny = [e for e in api.audit() if e.action == "authz.deny"][-1]
    assert (deny.actor, deny.target) == ("vic", "Fleet:fleet")
    assert deny.details["action"] == "user.read"
    assert deny.details["why"] == "no policy allows it"
    assert deny.details["policies"] is None


def test_a_forbid_policy_is_named_in_the_denial(api: Api) -> None:
    token = api.user("opal", ["operator"], {"team": "red"})
    response = api.call("POST", "/join-tokens", token, json={"tags": {"team": "blue"}})
    assert response.status_code == 403
    deny = [e for e in api.audit() if e.action == "authz.deny"][-1]
    assert deny.details["action"] == "jointoken.create"
    assert deny.details["policies"] == "forbid.other-team-host"
    assert "forbid.other-team-host" in str(deny.details["why"])
