"""Every state-changing route audits its success, and no secret reaches an audit line or a response."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from rampart.server.app import API_PREFIX, create_app
from unit.server.server_helpers import PASSWORD, Api

WRITES = {"POST", "PATCH", "PUT", "DELETE"}
# These audit their own events (sessions need a live agent: tests/integration/test_sessions.py checks
# session.start, session.deny, session.join, session.terminate and session.end there).
SELF_AUDITED = {
    ("POST", "/auth/login"),
    ("POST", "/enroll"),
    ("POST", "/sessions"),
    ("POST", "/sessions/{session_id}/terminate"),
}


def _logout(api: Api) -> Any:
    return api.call("POST", "/auth/logout", api.login("root"))


def _create_user(api: Api) -> Any:
    return api.call("POST", "/users", api.admin_token, json={"name": "ann", "password": PASSWORD})


def _update_user(api: Api) -> Any:
    api.create_user("ann", ["viewer"])
    return api.call("PATCH", "/users/ann", api.admin_token, json={"roles": ["auditor"]})


def _delete_user(api: Api) -> Any:
    api.create_user("ann", ["viewer"])
    return api.call("DELETE", "/users/ann", api.admin_token)


def _create_token(api: Api) -> Any:
    return api.call("POST", "/tokens", api.admin_token, json={"name": "ci", "scopes": ["read"]})


def _revoke_token(api: Api) -> Any:
    return api.call("DELETE", f"/tokens/{api.token(api.admin_token, ['read'])['id']}", api.admin_token)


def _create_join_token(api: Api) -> Any:
    return api.call("POST", "/join-tokens", api.admin_token, json={"tags": {"team": "red"}})


def _delete_join_token(api: Api) -> Any:
    api.join_token()
    token_id = api.call("GET", "/join-tokens", api.admin_token).json()[0]["id"]
    return api.call("DELETE", f"/join-tokens/{token_id}", api.admin_token)


def _revoke_host(api: Api) -> Any:
    return api.call("POST", f"/hosts/{api.host('web-1')}/revoke", api.admin_token)


def _scan_host(api: Api) -> Any:
    host_id = api.host("web-1")
    api.connect_agent(host_id)
    return api.call("POST", f"/hosts/{host_id}/scan", api.admin_token)


def _rematch(api: Api) -> Any:
    from rampart.advisories.importer import import_paths

    empty = api.state.config.data_dir / "osv"
    empty.mkdir()
    import_paths(api.state.config.advisory_path, [empty], now=api.clock.now)
    return api.call("POST", "/advisories/rematch", api.admin_token)


def _enroll_totp(api: Api) -> Any:
    return api.call("POST", "/users/root/totp", api.admin_token)


def _confirm_totp(api: Api) -> Any:
    from rampart.auth import totp

    secret = _enroll_totp(api).json()["secret"]
    code = totp.code_at(secret, totp.counter_at(api.clock.now))
    return api.call("POST", "/users/root/totp/confirm", api.admin_token, json={"code": code})


def _reset_totp(api: Api) -> Any:
    _enroll_totp(api)
    return api.call("DELETE", "/users/root/totp", api.admin_token)


def _add_registry(api: Api) -> Any:
    body = {"name": "hub", "host": "127.0.0.1:9", "insecure": True}
    return api.call("POST", "/registries", api.admin_token, json=body)


def _add_repository(api: Api) -> Any:
    _add_registry(api)
    return api.call("POST", "/registries/hub/repositories", api.admin_token, json={"name": "team/app"})


def _remove_repository(api: Api) -> Any:
    _add_repository(api)
    return api.call("DELETE", "/registries/hub/repositories/team/app", api.admin_token)


def _remove_registry(api: Api) -> Any:
    _add_repository(api)
    return api.call("DELETE", "/registries/hub", api.admin_token)


def _scan_registry(api: Api) -> Any:
    _add_repository(api)  # port 9 refuses: the poll is done, its failure reported and audited
    return api.call("POST", "/registries/hub/scan", api.admin_token)


def _accept_fim_changes(api: Api) -> Any:
    import uuid

    from rampart.server.results import RESULT_HANDLERS
    from unit.fleet.fim_samples import changed, fim_bytes

    host_id = api.host("web-1")
    result_id = str(uuid.uuid4())
    data = fim_bytes([changed(b"/etc/passwd", 10)], api.clock.now, result_id=result_id)
    RESULT_HANDLERS["fim"](api.state, host_id, result_id, data)
    body = {"host": host_id, "all_open": True, "reason": "planned change"}
    return api.call("POST", "/fim/changes/accept", api.admin_token, json=body)


def _check_fim(api: Api) -> Any:
    host_id = api.host("web-1")
    api.connect_agent(host_id)
    return api.call("POST", f"/hosts/{host_id}/fim/check", api.admin_token)


def _request_harden(api: Api) -> Any:
    host_id = api.host("web-1")
    api.connect_agent(host_id)
    return api.call(
        "POST", f"/harden/hosts/{host_id}/request", api.admin_token, json={"profile": "ssh-server"}
    )


# (method, path as routed) -> a successful call of it
SUCCESSFUL_CALLS: dict[tuple[str, str], Callable[[Api], Any]] = {
    ("POST", "/auth/logout"): _logout,
    ("POST", "/users"): _create_user,
    ("PATCH", "/users/{name}"): _update_user,
    ("DELETE", "/users/{name}"): _delete_user,
    ("POST", "/tokens"): _create_token,
    ("DELETE", "/tokens/{token_id}"): _revoke_token,
    ("POST", "/join-tokens"): _create_join_token,
    ("DELETE", "/join-tokens/{token_id}"): _delete_join_token,
    ("POST", "/hosts/{host_ref}/revoke"): _revoke_host,
    ("POST", "/hosts/{host_ref}/scan"): _scan_host,
    ("POST", "/advisories/rematch"): _rematch,
    ("POST", "/users/{name}/totp"): _enroll_totp,
    ("POST", "/users/{name}/totp/confirm"): _confirm_totp,
    ("DELETE", "/users/{name}/totp"): _reset_totp,
    ("POST", "/registries"): _add_registry,
    ("DELETE", "/registries/{name}"): _remove_registry,
    ("POST", "/registries/{name}/repositories"): _add_repository,
    ("DELETE", "/registries/{name}/repositories/{repository:path}"): _remove_repository,
    ("POST", "/registries/{name}/scan"): _scan_registry,
    ("POST", "/fim/changes/accept"): _accept_fim_changes,
    ("POST", "/hosts/{host_ref}/fim/check"): _check_fim,
    ("POST", "/harden/hosts/{host_ref}/request"): _request_harden,
}


def _api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those as one route holding the router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _state_changing_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, route.path.removeprefix(API_PREFIX))
        for route in _api_routes(app.routes)
        for method in route.methods & WRITES
    } - SELF_AUDITED


def test_the_route_walk_finds_the_read_routes_too(api: Api) -> None:
    paths = {route.path.removeprefix(API_PREFIX) for route in _api_routes(create_app(api.state).routes)}
    assert {"/auth/whoami", "/hosts", "/findings", "/audit", "/ca", "/enroll"} <= paths


def test_every_state_changing_route_has_an_audit_case(api: Api) -> None:
    routes = _state_changing_routes(create_app(api.state, background=False))
    assert routes == set(SUCCESSFUL_CALLS)


@pytest.mark.parametrize("route", sorted(SUCCESSFUL_CALLS), ids=" ".join)
def test_a_successful_state_change_is_audited(api: Api, route: tuple[str, str]) -> None:
    call = SUCCESSFUL_CALLS[route]
    before = api.state.audit.head().seq
    response = call(api)
    assert response.status_code < 300, response.text
    after = [e for e in api.audit() if e.seq > before]
    last = after[-1]
    assert last.outcome.value == "success"
    assert last.actor == "root"
    mirrored = api.state.config.audit_mirror.read_text()
    assert last.hash in mirrored


def test_a_scan_reaches_the_agent(api: Api) -> None:
    response = _scan_host(api)
    assert response.status_code == 202
    assert api.sent_jobs == [{**api.sent_jobs[0], "type": "job", "job_id": response.json()["job_id"]}]


def test_scan_of_a_disconnected_host_is_409_and_not_audited(api: Api) -> None:
    host_id = api.host("web-1")
    before = api.state.audit.head().seq
    assert api.call("POST", f"/hosts/{host_id}/scan", api.admin_token).status_code == 409
    assert all(e.action != "host.scan" for e in api.audit() if e.seq > before)


def test_a_failed_registry_poll_says_why(api: Api) -> None:
    outcome = _scan_registry(api).json()["repositories"][0]
    assert (outcome["tags"], outcome["scanned"], outcome["failed"]) == (0, 0, 1)
    assert "cannot reach registry 127.0.0.1:9" in outcome["errors"][0]
    repository = api.call("GET", "/registries", api.admin_token).json()[0]["repositories"][0]
    assert repository["error"].startswith("cannot reach registry") and repository["polled_at"] is not None


def test_rematch_without_an_advisory_database_is_a_4xx(api: Api) -> None:
    response = api.call("POST", "/advisories/rematch", api.admin_token)
    assert 400 <= response.status_code < 500


def test_secrets_never_reach_audit_lines_or_responses(api: Api) -> None:
    new_password = "brand-new-password-42"
    api.create_user("ann", ["operator"], {"team": "red"})
    ann = api.login("ann")
    api.call("PATCH", "/users/ann", api.admin_token, json={"password": new_password})
    api.call("POST", "/auth/login", json={"username": "ann", "password": "wrong-password-123"})
    ann2 = api.login("ann", new_password)
    issued = api.token(ann2, ["read", "write"])
    join = api.call("POST", "/join-tokens", ann2, json={"tags": {"team": "red"}}).json()["token"]
    enrolled = api.enroll(join, "web-1")
    api.enroll(join, "web-2")
    api.call("POST", "/auth/logout", ann)
    auditor = api.user("audrey", ["auditor"])
    audit_text = api.call("GET", "/audit", auditor).text
    listings = [
        api.call("GET", path, token).text
        for path, token in [
            ("/users", api.admin_token),
            ("/tokens", ann2),
            ("/join-tokens", api.admin_token),
            ("/hosts", api.admin_token),
            ("/auth/whoami", ann2),
        ]
    ]
    join_secret = _join_secret(join)
    secrets = [
        PASSWORD,
        new_password,
        "wrong-password-123",
        join,
        join_secret,
        *_api_secrets(ann, ann2, auditor, issued["token"]),
    ]
    haystacks = [*api.audit_lines(), audit_text, *listings, enrolled.text]
    for secret in secrets:
        for text in haystacks:
            assert secret not in text


def _api_secrets(*wires: str) -> list[str]:
    from rampart.auth.tokens import parse_api_token

    return [parse_api_token(wire)[1] for wire in wires] + list(wires)


def _join_secret(wire: str) -> str:
    from rampart.auth.tokens import parse_join_token

    return parse_join_token(wire).secret
