"""Session rows: record a session when it starts, close it with its reason, list and find them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rampart.store.models import SessionRow


def add_session(session: Session, **fields: Any) -> SessionRow:
    """Store a session that is starting (its columns by name)."""
    row = SessionRow(**fields)
    session.add(row)
    return row


def end_session(
    session: Session,
    session_id: str,
    *,
    ended_at: datetime,
    reason: str,
    exit_code: int | None,
    bytes_in: int,
    bytes_out: int,
) -> None:
    """Record how and when a session ended (once: a second end is ignored)."""
    row = session.get(SessionRow, session_id)
    if row is None or row.ended_at is not None:
        return
    row.ended_at, row.end_reason, row.exit_code = ended_at, reason[:2000], exit_code
    row.bytes_in, row.bytes_out = bytes_in, bytes_out


def end_all_open(session: Session, ended_at: datetime, reason: str) -> int:
    """Close every session still open (after a server restart nothing carries them); how many."""
    rows = session.scalars(select(SessionRow).where(SessionRow.ended_at.is_(None))).all()
    for row in rows:
        row.ended_at, row.end_reason = ended_at, reason
    return len(rows)


def get_session(session: Session, session_id: str) -> SessionRow | None:
    return session.get(SessionRow, session_id)


def list_sessions(session: Session, *, active: bool | None, limit: int = 500) -> Sequence[SessionRow]:
    """Sessions, newest first; ``active`` keeps only open (True) or ended (False) ones."""
    query = select(SessionRow).order_by(SessionRow.started_at.desc()).limit(limit)
    if active is True:
        query = query.where(SessionRow.ended_at.is_(None))
    elif active is False:
        query = query.where(SessionRow.ended_at.is_not(None))
    return session.scalars(query).all()
