"""The audit chain in the database: verifies with rampart.audit, catches edits, stays one chain under concurrency."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from rampart.audit.chain import GENESIS, Anchor, BreakReason, verify
from rampart.audit.events import REDACTED
from rampart.audit.sinks import JsonLinesFileSink, verify_file
from rampart.errors import AuditError
from rampart.store.audit_store import DatabaseAuditLog
from rampart.store.engine import write_session
from rampart.store.models import AuditEventRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ticking() -> Callable[[], datetime]:
    counter = itertools.count()
    return lambda: T0 + timedelta(seconds=next(counter))


def test_appended_events_verify(store_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    mirror = JsonLinesFileSink(tmp_path / "audit.jsonl")
    log = DatabaseAuditLog(store_sessions, ticking(), mirror)
    assert log.head() == GENESIS
    first = log.append("ann", "auth.login.success", "user:ann", "success", {"address": "10.0.0.1"})
    second = log.append("ann", "user.create", "user:bob", "success", {"password": "hunter2"})
    assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    assert second.details == {"password": REDACTED}
    events = list(log.events())
    assert events == [first, second] and events[0].time == T0
    assert verify(events, anchor=log.head()).ok
    assert log.head() == Anchor(2, second.hash)
    assert verify_file(mirror.path).ok


def test_edited_row_is_detected(store_sessions: sessionmaker[Session]) -> None:
    log = DatabaseAuditLog(store_sessions, ticking())
    for n in range(3):
        log.append("ann", "api.write", f"thing:{n}", "success")
    with store_sessions() as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(target="thing:other"))
        session.commit()
    result = verify(log.events())
    assert (result.ok, result.reason, result.position) == (False, BreakReason.EDITED, 2)


def test_append_in_follows_the_callers_transaction(store_sessions: sessionmaker[Session]) -> None:
    log = DatabaseAuditLog(store_sessions, ticking())
    with pytest.raises(RuntimeError), write_session(store_sessions) as session:
        log.append_in(session, "ann", "user.delete", "user:bob", "success")
        raise RuntimeError("the caller's work failed")
    assert list(log.events()) == [] and log.head() == GENESIS
    with write_session(store_sessions) as session:
        event = log.append_in(session, "ann", "user.delete", "user:bob", "success")
    assert list(log.events()) == [event]


def test_bad_events_are_refused_and_leave_the_chain_alone(store_sessions: sessionmaker[Session]) -> None:
    log = DatabaseAuditLog(store_sessions, ticking())
    with pytest.raises(AuditError):
        log.append("ann", "no.such.action", "x", "success")
    assert log.head() == GENESIS


def test_concurrent_writers_extend_one_chain(store_sessions: sessionmaker[Session]) -> None:
    logs = [DatabaseAuditLog(store_sessions) for _ in range(3)]  # separate logs: like separate processes
    barrier = threading.Barrier(len(logs))

    def write(log: DatabaseAuditLog, n: int) -> None:
        barrier.wait()
        for i in range(10):
            log.append(f"writer-{n}", "api.write", f"item:{i}", "success")

    threads = [threading.Thread(target=write, args=(log, n)) for n, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = list(logs[0].events())
    assert [e.seq for e in events] == list(range(1, 31))
    assert verify(events, anchor=logs[1].head()).ok


def test_events_page_after_and_limit(store_sessions: sessionmaker[Session]) -> None:
    log = DatabaseAuditLog(store_sessions, ticking())
    for n in range(5):
        log.append("ann", "api.write", f"item:{n}", "success")
    assert [e.seq for e in log.events(after=2)] == [3, 4, 5]
    assert [e.seq for e in log.events(after=1, limit=2)] == [2, 3]
    assert list(log.events(limit=0)) == []
    tail = list(log.events(after=3))
    assert verify(tail, start=Anchor(3, next(log.events(after=2, limit=1)).hash)).ok
