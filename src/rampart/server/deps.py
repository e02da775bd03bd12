"""Who is calling and may they: bearer-token authentication and the one authorization gate.

Every route asks `authorize(...)`, which checks the token's scope and then the Cedar policies;
a denial is audited with the policies that decided it and becomes a 403. `decide(...)` makes the
same check without raising or auditing, for callers that audit allow and deny themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from rampart.auth.tokens import parse_api_token, secret_matches
from rampart.errors import RampartError
from rampart.policy.authorizer import Principal, Resource
from rampart.policy.model import Decision
from rampart.server.state import ServerState
from rampart.store import tokens as token_store
from rampart.store import users as user_store

TOUCH_INTERVAL = timedelta(minutes=1)

# The scope a token must carry for each action (roles are Cedar's business).
ACTION_SCOPES: Mapping[str, str] = {
    "host.read": "read",
    "finding.read": "read",
    "jointoken.read": "read",
    "user.read": "read",
    "host.scan": "write",
    "host.revoke": "write",
    "jointoken.create": "write",
    "jointoken.delete": "write",
    "advisory.rematch": "write",
    "registry.read": "read",
    "registry.write": "write",
    "registry.scan": "write",
    "user.write": "admin",
    "audit.read": "audit",
    "token.self": "read",
    "session.shell": "write",
    "session.exec": "write",
    "session.forward": "write",
    "session.copy": "write",
    "session.join": "write",
    "session.terminate": "write",
    "session.root": "write",
    "session.read": "read",
    "recording.view": "read",
    "fim.read": "read",
    "fim.accept": "write",
    "fim.check": "write",
    "harden.read": "read",
    "harden.request": "write",
}


@dataclass(frozen=True)
class Caller:
    """An authenticated user and the token they presented (``mfa``: it came from a login with a second factor)."""

    principal: Principal
    token_id: str
    token_name: str
    scopes: frozenset[str]
    expires_at: datetime
    created_at: datetime | None
    address: str
    mfa: bool = False

    @property
    def name(self) -> str:
        return self.principal.name


def server_state(request: Request) -> ServerState:
    """The ServerState the app was built with."""
    state: ServerState = request.app.state.rampart
    return state


State = Annotated[ServerState, Depends(server_state)]


def client_address(request: Request) -> str:
    """The peer address as the server sees it (no proxy headers are trusted)."""
    return request.client.host if request.client else "unknown"


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    return credentials.strip()


class TokenRefused(RampartError):
    """A presented API token is unknown, expired, revoked, or its user is disabled or deleted."""


def authenticate(request: Request, state: State) -> Caller:
    """The caller behind the bearer token; 401 for a missing, malformed, unknown, expired or revoked one."""
    wire = _bearer(request)
    try:
        return _caller(state, wire, client_address(request))
    except RampartError as error:
        raise _unauthorized(error.message) from None


def caller_for_token(state: ServerState, wire: str, address: str) -> Caller | None:
    """The caller behind a wire-form token presented outside a header (a WebSocket's first message); None
    when it is malformed, unknown, expired or revoked, or its user is disabled or deleted."""
    try:
        return _caller(state, wire, address)
    except RampartError:
        return None


def _caller(state: ServerState, wire: str, address: str) -> Caller:
    token_id, secret = parse_api_token(wire)
    now = state.clock()
    with state.reader() as session:
        token = token_store.get_api_token(session, token_id)
        if token is None or not secret_matches(token.secret_hash, secret):
            raise TokenRefused("invalid token")
        if token.revoked_at is not None or token.expires_at <= now:
            raise TokenRefused("token expired or revoked")
        user = user_store.get_user(session, token.user_name)
        if user is None or user.disabled:
            raise TokenRefused("user disabled or deleted")
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        with state.session() as session:
            token_store.touch_api_token(session, token_id, now)
    principal = Principal(user.name, tuple(user.roles), dict(user.tags), user.disabled)
    scopes = frozenset(token.scopes)
    return Caller(
        principal, token.id, token.name, scopes, token.expires_at, token.created_at, address, bool(token.mfa)
    )


Authenticated = Annotated[Caller, Depends(authenticate)]


def authorize(
    state: ServerState,
    caller: Caller,
    action: str,
    resource: Resource,
    context: Mapping[str, Any] | None = None,
    *,
    hide: str | None = None,
) -> None:
    """Allow or raise 403 (404 with the `hide` message, so an unreadable resource looks absent);
    every denial is audited with the deciding policies."""
    decision = decide(state, caller, action, resource, context)
    if not decision.allowed:
        _deny(state, caller, action, resource, decision.policies, why_denied(decision), hide)


def decide(
    state: ServerState,
    caller: Caller,
    action: str,
    resource: Resource,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """The token's scope, then the policies: the decision with its deciding policies (nothing raised or audited).

    A token without the action's scope is denied with no policies and the reason in ``errors``.
    """
    scope = ACTION_SCOPES.get(action)
    if scope is None or scope not in caller.scopes:
        return Decision(False, (), (_scope_error(scope),))
    return state.authorizer.authorize(caller.principal, action, resource, context)


def why_denied(decision: Decision) -> str:
    """One line saying why a decision denies: the forbidding policies, the error, or no permit."""
    if decision.policies:
        return f"denied by {', '.join(decision.policies)}"
    if decision.errors and decision.errors[0].startswith(_SCOPE_ERROR):
        return decision.errors[0]
    return "no policy allows it"


_SCOPE_ERROR = "token lacks the"


def _scope_error(scope: str | None) -> str:
    return f"{_SCOPE_ERROR} '{scope}' scope"


def _deny(
    state: ServerState,
    caller: Caller,
    action: str,
    resource: Resource,
    policies: tuple[str, ...],
    why: str,
    hide: str | None = None,
) -> None:
    details = deny_details(caller, action, policies, why)
    state.audit.append(caller.name, "authz.deny", f"{resource.type}:{resource.id}", "deny", details)
    if hide is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, hide)
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed to {action} {resource.type} {resource.id}")


def deny_details(caller: Caller, action: str, policies: tuple[str, ...], why: str) -> dict[str, Any]:
    """What a denial's audit event says: the action, why, the deciding policies and the address."""
    return {"action": action, "why": why, "policies": ",".join(policies) or None, "address": caller.address}


def audit_write(
    state: ServerState, caller: Caller, action: str, target: str, details: Mapping[str, Any] | None = None
) -> None:
    """Audit a successful state-changing call."""
    merged = {"address": caller.address, "via": caller.token_id, **(details or {})}
    state.audit.append(caller.name, action, target, "success", merged)
