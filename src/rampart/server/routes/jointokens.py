"""Join tokens: one-time, expiring secrets that let a new host enroll with preset tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from rampart.auth.tokens import hash_secret, issue_join_token
from rampart.policy.authorizer import Resource
from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, State, audit_write, authorize
from rampart.server.schemas import JoinTokenCreate, JoinTokenInfo, JoinTokenIssued
from rampart.store import tokens as token_store

router = APIRouter(prefix="/join-tokens", tags=["enrollment"])


def _with_team(tags: dict[str, str], own: Mapping[str, str]) -> dict[str, str]:
    """A team member's hosts join their team unless the token says otherwise (the policy decides that)."""
    if "team" in own and "team" not in tags:
        return {**tags, "team": own["team"]}
    return tags


def _info(row: Any) -> JoinTokenInfo:
    return JoinTokenInfo(
        id=row.id,
        tags=dict(row.tags),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        host_id=row.host_id,
    )


@router.post("", response_model=JoinTokenIssued, status_code=status.HTTP_201_CREATED)
def create_join_token(body: JoinTokenCreate, caller: Authenticated, state: State) -> JoinTokenIssued:
    """A one-time join token for hosts that will carry `tags`; it pins this server's CA."""
    tags = _with_team(dict(body.tags), caller.principal.tags)
    authorize(state, caller, "jointoken.create", Resource("Host", "new-host", tags))
    issued, now = issue_join_token(state.trust_sha256), state.clock()
    expires = now + timedelta(seconds=body.expires_in)
    with state.session() as session:
        row = token_store.add_join_token(
            session, issued.id, hash_secret(issued.secret), tags, caller.name, now, expires
        )
        info = _info(row)
    audit_write(
        state,
        caller,
        "jointoken.create",
        f"jointoken:{issued.id}",
        {"tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())), "expires_in": body.expires_in},
    )
    return JoinTokenIssued(**info.model_dump(), token=issued.wire)


@router.get("", response_model=list[JoinTokenInfo])
def list_join_tokens(caller: Authenticated, state: State) -> list[JoinTokenInfo]:
    """Every join token (never a secret)."""
    authorize(state, caller, "jointoken.read", FLEET)
    with state.reader() as session:
        return [_info(row) for row in token_store.list_join_tokens(session)]


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_join_token(token_id: str, caller: Authenticated, state: State) -> Response:
    """Delete a join token so it can no longer be used."""
    with state.session() as session:
        row = token_store.get_join_token(session, token_id[:64])
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such join token")
    authorize(state, caller, "jointoken.delete", Resource("Host", "new-host", dict(row.tags)))
    with state.session() as session:
        token_store.delete_join_token(session, row.id)
    audit_write(state, caller, "jointoken.delete", f"jointoken:{row.id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
