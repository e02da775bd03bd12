"""User rows: create, read, list, update, delete and count; the second-factor (TOTP) columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
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


def set_totp_secret(session: Session, name: str, secret: str) -> bool:
    """Give a user a new, not yet confirmed TOTP secret (replacing any); False when there is no such user."""
    query = (
        update(User)
        .where(User.name == name)
        .values(totp_secret=secret, totp_confirmed=False, totp_last_counter=0)
    )
    return _changed(session, query)


def confirm_totp(session: Session, name: str, secret: str, counter: int) -> bool:
    """Turn on the enrolled, unconfirmed TOTP ``secret``, spending ``counter``; False if it is not the one
    waiting (confirmed meanwhile, replaced or removed)."""
    query = (
        update(User)
        .where(User.name == name, User.totp_secret == secret, User.totp_confirmed.is_(False))
        .values(totp_confirmed=True, totp_last_counter=counter)
    )
    return _changed(session, query)


def clear_totp(session: Session, name: str) -> bool:
    """Remove a user's TOTP secret (confirmed or not); False when there is no such user."""
    query = (
        update(User)
        .where(User.name == name)
        .values(totp_secret=None, totp_confirmed=False, totp_last_counter=0)
    )
    return _changed(session, query)


def record_totp_counter(session: Session, name: str, counter: int) -> bool:
    """Spend a TOTP time step: True for exactly one caller, and only when it is later than the last one."""
    query = (
        update(User)
        .where(User.name == name, User.totp_confirmed.is_(True), User.totp_last_counter < counter)
        .values(totp_last_counter=counter)
    )
    return _changed(session, query)


def _changed(session: Session, statement: Any) -> bool:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1
