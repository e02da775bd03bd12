"""User rows: create, read, list, update, delete and count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rampart.store.models import User


def create_user(
    session: Session,
    name: str,
    password_hash: str,
    roles: Sequence[str],
    tags: Mapping[str, str],
    now: datetime,
) -> User:
    """Add a user (the caller validated name, roles and tags); flushes so a duplicate fails here."""
    user = User(
        name=name,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        tags=dict(tags),
        disabled=False,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User | None:
    """The user called ``name``, or None."""
    return session.get(User, name)


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def update_user(
    session: Session,
    name: str,
    *,
    password_hash: str | None = None,
    roles: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    disabled: bool | None = None,
) -> User | None:
    """Change the given fields of a user; None when there is no such user."""
    user = session.get(User, name)
    if user is None:
        return None
    if password_hash is not None:
        user.password_hash = password_hash
    if roles is not None:
        user.roles = sorted(set(roles))
    if tags is not None:
        user.tags = dict(tags)
    if disabled is not None:
        user.disabled = disabled
    session.flush()
    return user


def delete_user(session: Session, name: str) -> bool:
    """Delete a user and (by cascade) their API tokens; False when there was none."""
    user = session.get(User, name)
    if user is None:
        return False
    session.delete(user)
    session.flush()
    return True


def count_users(session: Session) -> int:
    """How many users exist."""
    return session.scalar(select(func.count()).select_from(User)) or 0
