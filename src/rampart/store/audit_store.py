"""The audit chain kept in the database: `DatabaseAuditLog` appends, reads and reports the head.

Appends lock the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite
the transaction takes the database write lock first), so processes sharing a database extend one
chain without forks. Hashing, redaction and verification are `rampart.audit`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from rampart.audit.chain import Anchor, Clock
from rampart.audit.codec import event_hash
from rampart.audit.events import AuditEvent, DetailValue, Outcome, parse_outcome, redact
from rampart.audit.sinks import AuditSink
from rampart.store.engine import SessionFactory, take_write_lock, write_session
from rampart.store.models import AuditEventRow, AuditHead

_PAGE = 1000


class DatabaseAuditLog:
    """An audit chain stored in ``audit_events``; ``mirror`` (optional) receives every sealed event too."""

    def __init__(
        self, sessions: SessionFactory, clock: Clock | None = None, mirror: AuditSink | None = None
    ) -> None:
        self._sessions = sessions
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._mirror = mirror
        self._lock = threading.Lock()

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: Outcome | str,
        details: Mapping[str, DetailValue] | None = None,
    ) -> AuditEvent:
        """Seal and store one event in its own transaction."""
        with self._lock, write_session(self._sessions) as session:
            return self.append_in(session, actor, action, target, outcome, details)

    def append_in(
        self,
        session: Session,
        actor: str,
        action: str,
        target: str,
        outcome: Outcome | str,
        details: Mapping[str, DetailValue] | None = None,
    ) -> AuditEvent:
        """Seal one event inside the caller's transaction; it is stored when the caller commits."""
        head = _lock_head(session)
        draft = AuditEvent(
            head.seq + 1,
            self._clock(),
            actor,
            action,
            target,
            parse_outcome(outcome),
            redact(details or {}),
            head.hash,
            head.hash,
        )
        event = replace(draft, hash=event_hash(draft))
        session.add(_row(event))
        head.seq, head.hash = event.seq, event.hash
        session.flush()
        if self._mirror is not None:
            self._mirror.write(event)
        return event

    def events(self, after: int = 0, limit: int | None = None) -> Iterator[AuditEvent]:
        """Stored events with seq > ``after`` in order, at most ``limit`` of them, read page by page."""
        remaining = limit
        while remaining is None or remaining > 0:
            page = self._page(after, _PAGE if remaining is None else min(_PAGE, remaining))
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].seq
            remaining = None if remaining is None else remaining - len(page)

    def head(self) -> Anchor:
        """The seq and hash of the newest stored event (seq 0 and the genesis hash when empty)."""
        with self._sessions() as session:
            head = session.get(AuditHead, 1)
            assert head is not None, "the audit_head row is created by migration 0001"
            return Anchor(head.seq, head.hash)

    def _page(self, after: int, size: int) -> list[AuditEvent]:
        query = select(AuditEventRow).where(AuditEventRow.seq > after).order_by(AuditEventRow.seq).limit(size)
        with self._sessions() as session:
            return [to_event(row) for row in session.scalars(query)]


def _lock_head(session: Session) -> AuditHead:
    take_write_lock(session)
    query = (
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    head = session.scalars(query).one()
    return head


def _row(event: AuditEvent) -> AuditEventRow:
    return AuditEventRow(
        seq=event.seq,
        time=event.time,
        actor=event.actor,
        action=event.action,
        target=event.target,
        outcome=event.outcome.value,
        details=orjson.dumps(event.details).decode(),
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def to_event(row: AuditEventRow) -> AuditEvent:
    """The `AuditEvent` a stored row holds (validated again on construction)."""
    return AuditEvent(
        seq=row.seq,
        time=row.time,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome=cast(Outcome, row.outcome),
        details=orjson.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
