"""API token and join token rows; `consume_join_token` spends a join token exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Update, delete, select, update
from sqlalchemy.orm import Session

from rampart.store.models import ApiToken, JoinToken


def add_api_token(
    session: Session,
    token_id: str,
    user_name: str,
    name: str,
    secret_hash: str,
    scopes: Sequence[str],
    created_at: datetime,
    expires_at: datetime,
    *,
    mfa: bool = False,
) -> ApiToken:
    """Store a new API token (its secret already hashed); ``mfa`` marks a login that passed a second factor."""
    token = ApiToken(
        id=token_id,
        user_name=user_name,
        name=name,
        secret_hash=secret_hash,
        scopes=sorted(set(scopes)),
        created_at=created_at,
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
        mfa=mfa,
    )
    session.add(token)
    session.flush()
    return token


def get_api_token(session: Session, token_id: str) -> ApiToken | None:
    """The API token with this id, or None."""
    return session.get(ApiToken, token_id)


def list_api_tokens(session: Session, user_name: str) -> list[ApiToken]:
    """A user's tokens, oldest first."""
    query = select(ApiToken).where(ApiToken.user_name == user_name).order_by(ApiToken.created_at, ApiToken.id)
    return list(session.scalars(query))


def revoke_api_token(session: Session, token_id: str, now: datetime) -> bool:
    """Mark a token revoked (once); False when there is no such live token."""
    query = (
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return _changed(session, query)


def touch_api_token(session: Session, token_id: str, now: datetime) -> None:
    """Record that a token was used at ``now``."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def add_join_token(
    session: Session,
    token_id: str,
    secret_hash: str,
    tags: Mapping[str, str],
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
) -> JoinToken:
    """Store a new join token (its secret already hashed)."""
    token = JoinToken(
        id=token_id,
        secret_hash=secret_hash,
        tags=dict(tags),
        created_by=created_by,
        created_at=created_at,
        expires_at=expires_at,
        used_at=None,
        host_id=None,
    )
    session.add(token)
    session.flush()
    return token


def get_join_token(session: Session, token_id: str) -> JoinToken | None:
    """The join token with this id, or None."""
    return session.get(JoinToken, token_id)


def list_join_tokens(session: Session) -> list[JoinToken]:
    """Every join token, oldest first."""
    return list(session.scalars(select(JoinToken).order_by(JoinToken.created_at, JoinToken.id)))


def delete_join_token(session: Session, token_id: str) -> bool:
    """Delete a join token; False when there was none."""
    return _changed(session, delete(JoinToken).where(JoinToken.id == token_id))


def consume_join_token(session: Session, token_id: str, now: datetime, host_id: str) -> bool:
    """Spend an unused, unexpired join token for ``host_id``; True for exactly one caller.

    One conditional UPDATE: concurrent callers serialise on the row and all but the first
    find ``used_at`` already set.
    """
    query = (
        update(JoinToken)
        .where(JoinToken.id == token_id, JoinToken.used_at.is_(None), JoinToken.expires_at > now)
        .values(used_at=now, host_id=host_id)
    )
    return _changed(session, query)


def _changed(session: Session, statement: Update | Delete) -> bool:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1
