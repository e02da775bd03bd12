"""Whether a session's user may still have it: token, account and policies, re-checked while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rampart.policy.model import Principal, host, session_context
from rampart.store import hosts as host_store
from rampart.store import tokens as token_store
from rampart.store import users as user_store

if TYPE_CHECKING:
    from rampart.server.sessions.spec import SessionSpec
    from rampart.server.state import ServerState


def access_problem(state: ServerState, spec: SessionSpec) -> str | None:
    """Why the session must end now, or None while its user is still allowed to hold it."""
    now = state.clock()
    with state.reader() as session:
        token = token_store.get_api_token(session, spec.token_id)
        user = user_store.get_user(session, spec.user)
        row = host_store.get_host(session, spec.host_id)
    if token is None or token.revoked_at is not None:
        return "access revoked: the token was revoked"
    if token.expires_at <= now:
        return "access revoked: the token expired"
    if user is None or user.disabled:
        return "access revoked: the account is disabled or deleted"
    if row is None or row.revoked_at is not None:
        return "the host was revoked"
    principal = Principal(user.name, tuple(user.roles), dict(user.tags), user.disabled)
    context = session_context(mfa=bool(token.mfa), source_ip=spec.client_address, now=now)
    decision = state.authorizer.authorize(principal, spec.action, host(row.id, row.tags), context)
    return None if decision.allowed else "access revoked: the policies no longer allow this session"
