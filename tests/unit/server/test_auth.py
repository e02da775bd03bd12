"""Login, logout, whoami, the login rate limit, and API tokens (scopes, expiry, revocation)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rampart.auth.tokens import parse_api_token
from rampart.server.ratelimit import RateLimiter
from rampart.server.state import RateLimits
from unit.server.server_helpers import ADMIN, PASSWORD, Api


def test_login_returns_a_working_token_and_audits_success(api: Api) -> None:
    response = api.call("POST", "/auth/login", json={"username": ADMIN, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {**body["user"], "name": ADMIN, "roles": ["admin"], "tags": {}}
    assert body["token"].startswith("rpt_")
    assert api.call("GET", "/auth/whoami", body["token"]).json()["name"] == ADMIN
    success = [e for e in api.audit() if e.action == "auth.login.success"]
    assert success[-1].actor == ADMIN
    assert success[-1].details["via"] == body["token"].split("_")[1]


@pytest.mark.parametrize(
    ("username", "password", "why"),
    [(ADMIN, "not-the-password-1", "bad password"), ("nobody", PASSWORD, "unknown user")],
)
def test_login_failure_is_401_and_audited(api: Api, username: str, password: str, why: str) -> None:
    response = api.call("POST", "/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "wrong user name or password"}
    failure = [e for e in api.audit() if e.action == "auth.login.failure"][-1]
    assert (failure.actor, failure.outcome.value, failure.details["why"]) == (username, "failure", why)


def test_disabled_user_cannot_log_in(api: Api) -> None:
    api.create_user("ann", ["viewer"])
    api.call("PATCH", "/users/ann", api.admin_token, json={"disabled": True})
    response = api.call("POST", "/auth/login", json={"username": "ann", "password": PASSWORD})
    assert response.status_code == 401


def test_login_is_rate_limited_per_user(api: Api) -> None:
    api.state.limits = RateLimits(
        login_by_address=RateLimiter(burst=100, per_minute=0.0),
        login_by_user=RateLimiter(burst=3, per_minute=0.0),
    )
    wrong = {"username": ADMIN, "password": "not-the-password-1"}
    codes = [api.call("POST", "/auth/login", json=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    right = {"username": ADMIN, "password": PASSWORD}
    assert api.call("POST", "/auth/login", json=right).status_code == 429
    denied = [e for e in api.audit() if e.action == "auth.login.failure" and e.outcome.value == "deny"]
    assert denied[-1].details["why"] == "rate limited"
    other = api.call("POST", "/auth/login", json={"username": "someone", "password": PASSWORD})
    assert other.status_code == 401  # another user name still has its own budget


def test_login_is_rate_limited_per_address(api: Api) -> None:
    api.state.limits = RateLimits(
        login_by_address=RateLimiter(burst=2, per_minute=0.0),
        login_by_user=RateLimiter(burst=100, per_minute=0.0),
    )
    codes = [
        api.call("POST", "/auth/login", json={"username": f"u{i}", "password": PASSWORD}).status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 429]


def test_logout_revokes_the_presented_token_only(api: Api) -> None:
    other = api.login(ADMIN)
    assert api.call("POST", "/auth/logout", api.admin_token).status_code == 204
    assert api.call("GET", "/auth/whoami", api.admin_token).status_code == 401
    assert api.call("GET", "/auth/whoami", other).status_code == 200
    assert any(e.action == "auth.logout" for e in api.audit())


def test_whoami_names_the_user_and_the_token(api: Api) -> None:
    token = api.user("vic", ["viewer"], {"team": "red"})
    body = api.call("GET", "/auth/whoami", token).json()
    assert (body["name"], body["roles"], body["tags"]) == ("vic", ["viewer"], {"team": "red"})
    assert body["token"]["name"] == "login"
    assert body["token"]["scopes"] == ["read"]
    assert body["token"]["id"] == token.split("_")[1]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic cm9vdDpwdw==",
        "Bearer ",
        "Bearer rpt_0123456789abcdef_" + "A" * 43,
        "Bearer rpt_zz_short",
        "Bearer " + "x" * 10_000,
        b"Bearer rpt_0123456789abcdef_" + b"\xe9" * 43,
    ],
)
def test_missing_or_bad_credentials_are_401(api: Api, header: str | bytes | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = api.call("GET", "/auth/whoami", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "\n" not in response.json()["detail"]


def test_issued_token_secret_is_shown_once_and_never_listed(api: Api) -> None:
    issued = api.token(api.admin_token, ["read"], name="ci")
    secret = parse_api_token(issued["token"])[1]
    listing = api.call("GET", "/tokens", api.admin_token)
    assert listing.status_code == 200
    assert secret not in listing.text
    assert "token" not in listing.json()[0]
    assert issued["id"] in {t["id"] for t in listing.json()}
    assert api.call("GET", "/auth/whoami", issued["token"]).json()["token"]["scopes"] == ["read"]


@pytest.mark.parametrize(("roles", "scopes"), [(["viewer"], ["write"]), (["operator"], ["admin"])])
def test_scopes_beyond_the_users_roles_are_refused(api: Api, roles: list[str], scopes: list[str]) -> None:
    token = api.user("pat", roles)
    body = {"name": "x", "scopes": scopes, "expires_in": 3600}
    response = api.call("POST", "/tokens", token, json=body)
    assert response.status_code == 403
    assert scopes[0] in response.json()["detail"]


def test_a_token_cannot_mint_a_token_with_more_scopes_than_itself(api: Api) -> None:
    read_only = api.token(api.admin_token, ["read"])["token"]
    response = api.call("POST", "/tokens", read_only, json={"name": "x", "scopes": ["admin"]})
    assert response.status_code == 403


def test_expired_token_is_401(api: Api) -> None:
    issued = api.token(api.admin_token, ["read"], expires_in=60)
    assert api.call("GET", "/auth/whoami", issued["token"]).status_code == 200
    api.clock.advance(timedelta(seconds=61))
    assert api.call("GET", "/auth/whoami", issued["token"]).status_code == 401


def test_revoked_token_is_401(api: Api) -> None:
    issued = api.token(api.admin_token, ["read"])
    assert api.call("DELETE", f"/tokens/{issued['id']}", api.admin_token).status_code == 204
    assert api.call("GET", "/auth/whoami", issued["token"]).status_code == 401
    listed = {t["id"]: t for t in api.call("GET", "/tokens", api.admin_token).json()}
    assert listed[issued["id"]]["revoked_at"] is not None


def test_cannot_revoke_someone_elses_token(api: Api) -> None:
    token = api.user("pat", ["viewer"])
    issued = api.token(api.admin_token, ["read"])
    assert api.call("DELETE", f"/tokens/{issued['id']}", token).status_code == 404
    assert api.call("GET", "/auth/whoami", issued["token"]).status_code == 200


def test_tokens_of_a_deleted_or_disabled_user_stop_working(api: Api) -> None:
    ann, bob = api.user("ann", ["viewer"]), api.user("bob", ["viewer"])
    api.call("PATCH", "/users/ann", api.admin_token, json={"disabled": True})
    api.call("DELETE", "/users/bob", api.admin_token)
    assert api.call("GET", "/auth/whoami", ann).status_code == 401
    assert api.call("GET", "/auth/whoami", bob).status_code == 401


def test_read_only_token_cannot_write_and_the_denial_names_the_scope(api: Api) -> None:
    read_only = api.token(api.admin_token, ["read"])["token"]
    response = api.call("POST", "/join-tokens", read_only, json={"tags": {}})
    assert response.status_code == 403
    deny = [e for e in api.audit() if e.action == "authz.deny"][-1]
    assert deny.details["action"] == "jointoken.create"
    assert deny.details["why"] == "token lacks the 'write' scope"
    assert deny.outcome.value == "deny"
    assert api.call("GET", "/hosts", read_only).status_code == 200


def test_token_lifetime_is_bounded(api: Api) -> None:
    for expires_in in (59, 31_536_001, -1):
        body = {"name": "x", "scopes": ["read"], "expires_in": expires_in}
        assert api.call("POST", "/tokens", api.admin_token, json=body).status_code == 422
