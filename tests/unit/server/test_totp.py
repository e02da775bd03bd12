"""TOTP second factor through the app: enrol, confirm, reset, login with a code, the token's mfa flag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rampart.auth import totp
from rampart.auth.tokens import parse_api_token
from rampart.server.ratelimit import RateLimiter
from rampart.server.state import RateLimits
from rampart.store import tokens as token_store
from unit.server.server_helpers import ADMIN, PASSWORD, Api


def _code(api: Api, secret: str, offset: int = 0) -> str:
    return totp.code_at(secret, totp.counter_at(api.clock.now) + offset)


def _login(api: Api, name: str, code: str | None = None) -> Any:
    body: dict[str, Any] = {"username": name, "password": PASSWORD}
    if code is not None:
        body["totp"] = code
    return api.call("POST", "/auth/login", json=body)


def _enroll(api: Api, name: str, token: str) -> Any:
    return api.call("POST", f"/users/{name}/totp", token)


def _confirm(api: Api, name: str, token: str, code: str) -> Any:
    return api.call("POST", f"/users/{name}/totp/confirm", token, json={"code": code})


def _with_totp(api: Api, name: str = "ann", roles: tuple[str, ...] = ("operator",)) -> tuple[str, str]:
    """A user with a confirmed TOTP; (their password-only token from before, the secret)."""
    token = api.user(name, list(roles))
    enrolled = _enroll(api, name, token)
    assert enrolled.status_code == 201, enrolled.text
    secret: str = enrolled.json()["secret"]
    assert _confirm(api, name, token, _code(api, secret)).status_code == 204
    api.clock.advance(timedelta(seconds=30))  # the confirming code's step is spent
    return token, secret


def _mfa_of(api: Api, wire: str) -> bool:
    with api.state.reader() as session:
        row = token_store.get_api_token(session, parse_api_token(wire)[0])
        assert row is not None
        return row.mfa


def test_self_enrolment_returns_secret_and_uri_and_changes_nothing_until_confirmed(api: Api) -> None:
    token = api.user("ann", ["viewer"])
    response = _enroll(api, "ann", token)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"secret", "uri"}
    assert body["uri"].startswith("otpauth://totp/rampart:ann?") and f"secret={body['secret']}" in body["uri"]
    assert _login(api, "ann").status_code == 200
    events = [e for e in api.audit() if e.action == "auth.totp.enroll"]
    assert (events[-1].actor, events[-1].target) == ("ann", "user:ann")


def test_confirm_turns_it_on_and_login_then_needs_a_code(api: Api) -> None:
    _, secret = _with_totp(api)
    missing = _login(api, "ann")
    assert (missing.status_code, missing.json()["detail"]) == (401, "a TOTP code is required")
    wrong = _login(api, "ann", f"{(int(_code(api, secret)) + 1) % 1_000_000:06d}")
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "invalid TOTP code")
    failures = [e for e in api.audit() if e.action == "auth.login.failure"]
    assert [e.details["why"] for e in failures[-2:]] == ["no TOTP code", "bad TOTP code"]
    assert all(e.outcome.value == "failure" and e.actor == "ann" for e in failures[-2:])
    good = _login(api, "ann", _code(api, secret))
    assert good.status_code == 200 and good.json()["mfa"] is True
    assert _mfa_of(api, good.json()["token"])
    whoami = api.call("GET", "/auth/whoami", good.json()["token"]).json()
    assert whoami["mfa"] is True
    success = [e for e in api.audit() if e.action == "auth.login.success"][-1]
    assert (success.actor, success.details["mfa"]) == ("ann", True)
    assert any(e.action == "auth.totp.confirm" and e.target == "user:ann" for e in api.audit())


def test_wrong_password_with_right_code_says_nothing_about_totp(api: Api) -> None:
    _, secret = _with_totp(api)
    body = {"username": "ann", "password": "not-the-password-1", "totp": _code(api, secret)}
    response = api.call("POST", "/auth/login", json=body)
    assert (response.status_code, response.json()["detail"]) == (401, "wrong user name or password")


def test_a_code_works_once(api: Api) -> None:
    _, secret = _with_totp(api)
    code = _code(api, secret)
    assert _login(api, "ann", code).status_code == 200
    again = _login(api, "ann", code)
    assert (again.status_code, again.json()["detail"]) == (401, "invalid TOTP code")
    assert _login(api, "ann", _code(api, secret, -1)).status_code == 401  # older step: refused too
    assert _login(api, "ann", _code(api, secret, +1)).status_code == 200  # the next step is fresh


def test_codes_outside_the_window_are_refused(api: Api) -> None:
    _, secret = _with_totp(api)
    assert _login(api, "ann", _code(api, secret, +2)).status_code == 401
    assert _login(api, "ann", _code(api, secret, -2)).status_code == 401
    api.clock.advance(timedelta(seconds=30))
    assert _login(api, "ann", _code(api, secret, -1)).status_code == 200


@pytest.mark.parametrize(
    ("code", "detail"), [("", "a TOTP code is required"), ("12345", "invalid TOTP code")]
)
def test_malformed_codes_at_login(api: Api, code: str, detail: str) -> None:
    _with_totp(api)
    response = _login(api, "ann", code)
    assert (response.status_code, response.json()["detail"]) == (401, detail)


@pytest.mark.parametrize("code", ["abcdef", "1234567", "12 34 56", "１２３４５６", "\x00" * 6])
def test_non_digit_codes_at_login(api: Api, code: str) -> None:
    _with_totp(api)
    assert _login(api, "ann", code).status_code == 401


@pytest.mark.parametrize("code", ["1" * 1000, 123456, ["123456"], {"a": 1}])
def test_oversized_or_mistyped_codes_are_422(api: Api, code: object) -> None:
    _with_totp(api)
    body = {"username": "ann", "password": PASSWORD, "totp": code}
    assert api.call("POST", "/auth/login", json=body).status_code == 422


def test_wrong_codes_are_rate_limited_like_passwords(api: Api) -> None:
    _, secret = _with_totp(api)
    api.state.limits = RateLimits(
        login_by_address=RateLimiter(burst=100, per_minute=0.0),
        login_by_user=RateLimiter(burst=3, per_minute=0.0),
    )
    codes = [_login(api, "ann", "000000").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    assert _login(api, "ann", _code(api, secret)).status_code == 429


def test_a_code_for_a_user_without_totp_is_ignored(api: Api) -> None:
    api.create_user("bob", ["viewer"])
    response = _login(api, "bob", "123456")
    assert response.status_code == 200 and response.json()["mfa"] is False
    assert api.call("GET", "/auth/whoami", response.json()["token"]).json()["mfa"] is False


def test_tokens_made_from_an_mfa_login_are_not_mfa(api: Api) -> None:
    _, secret = _with_totp(api)
    session_token = _login(api, "ann", _code(api, secret)).json()["token"]
    made = api.token(session_token, ["read"])["token"]
    assert not _mfa_of(api, made)
    assert api.call("GET", "/auth/whoami", made).json()["mfa"] is False


def test_only_an_admin_may_replace_a_confirmed_secret(api: Api) -> None:
    old_token, secret = _with_totp(api)
    assert _enroll(api, "ann", old_token).status_code == 403
    assert _login(api, "ann").status_code == 401  # still on
    replaced = _enroll(api, "ann", api.admin_token)
    assert replaced.status_code == 201 and replaced.json()["secret"] != secret
    assert _login(api, "ann").status_code == 200  # the new one is off until ann confirms it
    new_code = _code(api, replaced.json()["secret"])
    assert _confirm(api, "ann", old_token, new_code).status_code == 204
    assert _login(api, "ann").status_code == 401


def test_an_unconfirmed_secret_can_be_replaced_by_the_user(api: Api) -> None:
    token = api.user("ann", ["viewer"])
    first = _enroll(api, "ann", token).json()["secret"]
    second = _enroll(api, "ann", token).json()["secret"]
    assert first != second
    assert _confirm(api, "ann", token, _code(api, first)).status_code == 422
    assert _confirm(api, "ann", token, _code(api, second)).status_code == 204


def test_others_may_not_enrol_confirm_or_reset(api: Api) -> None:
    api.create_user("ann", ["viewer"])
    bob = api.user("bob", ["operator"])
    assert _enroll(api, "ann", bob).status_code == 403
    assert api.call("DELETE", "/users/ann/totp", bob).status_code == 403
    secret = _enroll(api, "ann", api.admin_token).json()["secret"]
    assert _confirm(api, "ann", api.admin_token, _code(api, secret)).status_code == 403
    assert _confirm(api, "ann", bob, _code(api, secret)).status_code == 403
    assert any(e.action == "authz.deny" and e.actor == "bob" for e in api.audit())


def test_admin_reset_turns_it_off(api: Api) -> None:
    token, _ = _with_totp(api)
    assert api.call("DELETE", "/users/ann/totp", token).status_code == 403
    assert api.call("DELETE", "/users/ann/totp", api.admin_token).status_code == 204
    assert _login(api, "ann").status_code == 200
    reset = [e for e in api.audit() if e.action == "auth.totp.reset"][-1]
    assert (reset.actor, reset.target, reset.details["was_on"]) == (ADMIN, "user:ann", True)


def test_confirm_needs_a_pending_enrolment(api: Api) -> None:
    token = api.user("ann", ["viewer"])
    assert _confirm(api, "ann", token, "123456").status_code == 409
    secret = _enroll(api, "ann", token).json()["secret"]
    assert _confirm(api, "ann", token, _code(api, secret)).status_code == 204
    assert _confirm(api, "ann", token, _code(api, secret, 1)).status_code == 409


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "9" * 64])
def test_confirm_refuses_malformed_codes(api: Api, code: str) -> None:
    token = api.user("ann", ["viewer"])
    _enroll(api, "ann", token)
    assert _confirm(api, "ann", token, code).status_code == 422
    assert api.call("POST", "/users/ann/totp/confirm", token, json={"code": "1" * 1000}).status_code == 422
    assert api.call("POST", "/users/ann/totp/confirm", token, json={"code": "1", "x": 1}).status_code == 422


def test_confirm_attempts_are_rate_limited(api: Api) -> None:
    token = api.user("ann", ["viewer"])
    secret = _enroll(api, "ann", token).json()["secret"]
    api.state.limits = RateLimits(login_by_user=RateLimiter(burst=2, per_minute=0.0))
    assert [_confirm(api, "ann", token, "000000").status_code for _ in range(2)] == [422, 422]
    assert _confirm(api, "ann", token, _code(api, secret)).status_code == 429


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/totp"), ("DELETE", "/totp"), ("POST", "/totp/confirm")]
)
def test_unknown_user_is_404(api: Api, method: str, path: str) -> None:
    response = api.call(method, f"/users/nobody{path}", api.admin_token, json={"code": "123456"})
    assert response.status_code == 404


def test_totp_routes_need_a_token(api: Api) -> None:
    assert api.call("POST", "/users/root/totp").status_code == 401


def test_the_secret_never_reaches_audit_lines_or_listings(api: Api) -> None:
    token, secret = _with_totp(api)
    _login(api, "ann", _code(api, secret))
    _login(api, "ann", "000000")
    listings = [api.call("GET", "/users", api.admin_token).text, api.call("GET", "/auth/whoami", token).text]
    for text in [*api.audit_lines(), *listings]:
        assert secret not in text


def test_store_spends_each_step_once_and_confirms_only_the_waiting_secret(api: Api) -> None:
    from rampart.store import users as user_store

    api.create_user("ann", ["viewer"])
    with api.state.session() as session:
        assert user_store.set_totp_secret(session, "ann", "A" * 32)
        assert not user_store.record_totp_counter(session, "ann", 10)  # not confirmed yet
        assert not user_store.confirm_totp(session, "ann", "B" * 32, 5)
        assert user_store.confirm_totp(session, "ann", "A" * 32, 5)
        assert not user_store.confirm_totp(session, "ann", "A" * 32, 6)
        assert [user_store.record_totp_counter(session, "ann", n) for n in (5, 6, 6, 4, 7)] == [
            False,
            True,
            False,
            False,
            True,
        ]
        assert user_store.clear_totp(session, "ann")
        assert not user_store.set_totp_secret(session, "nobody", "A" * 32)
    with api.state.reader() as session:
        user = user_store.get_user(session, "ann")
        assert user is not None
        assert (user.totp_secret, user.totp_confirmed, user.totp_last_counter) == (None, False, 0)
