"""The caller's own API tokens: list, issue (shown once) and revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from rampart.auth.tokens import hash_secret, issue_api_token, scopes_for_roles
from rampart.policy.authorizer import Resource
from rampart.server.deps import Authenticated, Caller, State, audit_write, authorize
from rampart.server.schemas import TokenCreate, TokenInfo, TokenIssued
from rampart.store import tokens as token_store

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _own(caller: Caller) -> Resource:
    return Resource("User", caller.name, dict(caller.principal.tags))


def _info(token: Any) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


@router.get("", response_model=list[TokenInfo])
def list_tokens(caller: Authenticated, state: State) -> list[TokenInfo]:
    """The caller's tokens (never their secrets)."""
    authorize(state, caller, "token.self", _own(caller))
    with state.reader() as session:
        return [_info(t) for t in token_store.list_api_tokens(session, caller.name)]


@router.post("", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, caller: Authenticated, state: State) -> TokenIssued:
    """Issue a scoped, expiring token; its secret is in this response only."""
    authorize(state, caller, "token.self", _own(caller))
    wanted = set(body.scopes)
    beyond = wanted - scopes_for_roles(caller.principal.roles) | (wanted - caller.scopes)
    if beyond:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"scopes beyond your own: {', '.join(sorted(beyond))}")
    issued, now = issue_api_token(), state.clock()
    expires = min(now + timedelta(seconds=body.expires_in), now + timedelta(days=365))
    with state.session() as session:
        token = token_store.add_api_token(
            session,
            issued.id,
            caller.name,
            body.name,
            hash_secret(issued.secret),
            sorted(wanted),
            now,
            expires,
        )
        info = _info(token)
    audit_write(state, caller, "auth.token.issue", f"token:{issued.id}", {"scopes": ",".join(sorted(wanted))})
    return TokenIssued(**info.model_dump(), token=issued.wire)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, caller: Authenticated, state: State) -> Response:
    """Revoke one of the caller's tokens."""
    authorize(state, caller, "token.self", _own(caller))
    with state.session() as session:
        token = token_store.get_api_token(session, token_id[:64])
        if token is None or token.user_name != caller.name:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such token")
        token_store.revoke_api_token(session, token.id, state.clock())
    audit_write(state, caller, "auth.token.revoke", f"token:{token.id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
