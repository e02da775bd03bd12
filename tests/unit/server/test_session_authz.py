"""The authorization gate for session actions: token scopes, `decide`, `authorize` with a context, tokens
presented outside a header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import HTTPException

from rampart.policy.model import SESSION_ACTIONS, Decision, host, session_context
from rampart.server.deps import ACTION_SCOPES, Caller, authorize, caller_for_token, decide, why_denied
from unit.server.server_helpers import Api

GUARDED = host("h-0000000000000001", {"mfa": "required"})


def _caller(api: Api, wire: str) -> Caller:
    caller = caller_for_token(api.state, wire, "10.1.2.3")
    assert caller is not None
    return caller


def _context(caller: Caller, api: Api) -> dict[str, object]:
    return session_context(mfa=caller.mfa, source_ip=caller.address, now=api.clock.now)


def test_every_session_action_has_a_scope() -> None:
    reading = {"session.read", "recording.view"}
    assert {a: ACTION_SCOPES[a] for a in SESSION_ACTIONS} == {
        a: "read" if a in reading else "write" for a in SESSION_ACTIONS
    }


def test_decide_checks_the_scope_first(api: Api) -> None:
    wire = api.user("olga", ["operator"])
    read_only = _caller(api, api.token(wire, ["read"])["token"])
    denied = decide(api.state, read_only, "session.shell", host("h-1"), _context(read_only, api))
    assert denied == Decision(False, (), ("token lacks the 'write' scope",))
    assert why_denied(denied) == "token lacks the 'write' scope"
    assert decide(api.state, read_only, "session.read", host("h-1"), _context(read_only, api)).allowed


def test_decide_passes_the_context_and_names_policies(api: Api) -> None:
    caller = _caller(api, api.user("olga", ["operator"]))
    assert caller.mfa is False and caller.address == "10.1.2.3"
    before = api.state.audit.head().seq
    denied = decide(api.state, caller, "session.shell", GUARDED, _context(caller, api))
    assert (denied.allowed, denied.policies) == (False, ("forbid.mfa-required-host",))
    allowed = decide(api.state, caller, "session.exec", host("h-2"), _context(caller, api))
    assert (allowed.allowed, allowed.policies) == (True, ("role.operator-sessions",))
    assert api.state.audit.head().seq == before  # decide audits nothing


def test_authorize_with_a_context_audits_the_denial(api: Api) -> None:
    caller = _caller(api, api.user("olga", ["operator"]))
    with pytest.raises(HTTPException) as caught:
        authorize(api.state, caller, "session.shell", GUARDED, _context(caller, api))
    assert caught.value.status_code == 403
    deny = api.audit()[-1]
    assert (deny.action, deny.details["policies"], deny.details["why"]) == (
        "authz.deny",
        "forbid.mfa-required-host",
        "denied by forbid.mfa-required-host",
    )
    authorize(api.state, caller, "session.shell", host("h-2"), _context(caller, api))


def test_root_is_not_decided_for_an_admin(api: Api) -> None:
    caller = _caller(api, api.admin_token)
    decision = decide(api.state, caller, "session.root", host("h-1"), _context(caller, api))
    assert decision == Decision(False, (), ())
    assert why_denied(decision) == "no policy allows it"


@pytest.mark.parametrize("wire", ["", "rpt_", "rpt_0123456789abcdef_" + "A" * 43, "x" * 10_000, "\x00"])
def test_caller_for_token_refuses_bad_tokens(api: Api, wire: str) -> None:
    assert caller_for_token(api.state, wire, "10.0.0.1") is None


def test_caller_for_token_refuses_expired_revoked_and_disabled(api: Api) -> None:
    wire = api.user("olga", ["operator"])
    short = api.token(wire, ["read"], expires_in=60)["token"]
    api.clock.advance(timedelta(seconds=61))
    assert caller_for_token(api.state, short, "a") is None
    assert caller_for_token(api.state, wire, "a") is not None
    api.call("PATCH", "/users/olga", api.admin_token, json={"disabled": True})
    assert caller_for_token(api.state, wire, "a") is None
