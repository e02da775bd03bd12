"""Storing one host's file integrity result: idempotent on the result id, the host's changes kept in step.

Each reported change is new (opened), seen again in the same state (``last_seen_at``), or in another
state: then it is open again, unless the state is the one an acceptance covered (then accepted again).
Open and accepted changes the host no longer reports are resolved: the path is back to its baseline,
or the baseline was updated on the host. A change reported again after it was resolved is a new one
(open, its earlier acceptance dropped). A refused upload (the agent's baseline failed verification)
records the refusal and leaves the changes alone. An upload older than the last applied one is kept
as a result but changes nothing. The host row is locked, so two uploads of one host apply in turn.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from rampart.errors import InventoryError
from rampart.fleet.fimresult import FimChange, FimResult
from rampart.fleet.sql import chunks, claim_upload
from rampart.report.escape import shown_bytes
from rampart.store.engine import take_write_lock
from rampart.store.models import FimChangeRow, FimStatusRow, Host

RESULT_KIND = "fim"
OPEN, ACCEPTED, RESOLVED = "open", "accepted", "resolved"


@dataclass(frozen=True)
class FimOutcome:
    """Whether the result was new and applied, what it did to the changes, and the refusal it carried."""

    stored: bool
    applied: bool = False
    opened: int = 0
    resolved: int = 0
    refused: str | None = None


@dataclass(frozen=True)
class _Stored:
    status: str
    fingerprint: str
    accepted_fingerprint: str | None


def ingest_fim(session: Session, host_id: str, result: FimResult, now: datetime) -> FimOutcome:
    """Store ``result`` for ``host_id`` in the caller's transaction (the caller commits).

    On SQLite call it first thing in a transaction (or in a `write_session`): it takes the write lock.
    """
    take_write_lock(session)
    if session.get(Host, host_id, with_for_update=True) is None:
        raise InventoryError(f"unknown host {host_id[:64]!r}")
    if not claim_upload(session, host_id, RESULT_KIND, result, now):
        return FimOutcome(stored=False)
    status = session.get(FimStatusRow, host_id)
    if status is not None and result.collected_at < status.checked_at:
        return FimOutcome(stored=True, refused=result.refused)  # late and older: kept, not applied
    if status is None:
        status = FimStatusRow(host_id=host_id, checked_at=result.collected_at)
        session.add(status)
    status.checked_at = result.collected_at
    if result.refused is not None:
        status.refused = result.refused or "the baseline was refused"
        session.flush()
        return FimOutcome(stored=True, applied=True, refused=status.refused)
    _update_status(status, result)
    opened, resolved = sync_changes(session, host_id, result, now)
    session.flush()
    return FimOutcome(stored=True, applied=True, opened=opened, resolved=resolved)


def _update_status(status: FimStatusRow, result: FimResult) -> None:
    status.baseline_created = result.baseline.get("created", "")
    status.baseline_digest = result.baseline.get("digest", "")
    status.key_id = result.baseline.get("key_id", "")
    status.entries = result.entries
    status.unreadable = len(result.errors)
    status.refused = ""


def path_key(path: bytes) -> str:
    """The stored key of a path: the SHA-256 of its bytes (hex)."""
    return hashlib.sha256(path).hexdigest()


def sync_changes(session: Session, host_id: str, result: FimResult, now: datetime) -> tuple[int, int]:
    """Make the host's change rows agree with ``result``; (opened, resolved)."""
    stored = _stored(session, host_id)
    reported = _firsts(result.changes)
    new_rows: list[dict[str, Any]] = []
    reopened: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    opened = 0
    for key, change in reported.items():
        before = stored.get(key)
        values = {"host_id": host_id, "path_sha256": key, **_facts(change), "last_seen_at": now}
        if before is None or before.status == RESOLVED:
            (new_rows if before is None else reopened).append({**values, **_fresh(now)})
            opened += 1
        else:
            status = _status_now(before, change.fingerprint)
            opened += status == OPEN and before.status != OPEN
            seen.append({**values, "status": status})
    unreadable = {path_key(path) for path, _ in result.errors}
    gone = [  # an incomplete upload (too many changes for one) resolves nothing it left out
        k
        for k, s in stored.items()
        if result.complete and s.status != RESOLVED and k not in reported and k not in unreadable
    ]
    resolved = [{"host_id": host_id, "path_sha256": k, "status": RESOLVED, "resolved_at": now} for k in gone]
    for batch in chunks(new_rows, 1000):
        session.execute(insert(FimChangeRow), list(batch))
    for rows in (reopened, seen, resolved):  # one statement shape per list
        for batch in chunks(rows, 1000):
            session.execute(update(FimChangeRow), list(batch))
    return opened, len(gone)


def _stored(session: Session, host_id: str) -> dict[str, _Stored]:
    query = select(
        FimChangeRow.path_sha256,
        FimChangeRow.status,
        FimChangeRow.fingerprint,
        FimChangeRow.accepted_fingerprint,
    ).where(FimChangeRow.host_id == host_id)
    return {row[0]: _Stored(row[1], row[2], row[3]) for row in session.execute(query)}


def _firsts(changes: Iterable[FimChange]) -> dict[str, FimChange]:
    """The changes by path key; a path reported twice counts once (its first report)."""
    firsts: dict[str, FimChange] = {}
    for change in changes:
        firsts.setdefault(path_key(change.path), change)
    return firsts


def _status_now(before: _Stored, fingerprint: str) -> str:
    """Same state: as it was; another state: open, unless it is the state an acceptance covered."""
    if fingerprint == before.fingerprint:
        return before.status
    return ACCEPTED if fingerprint == before.accepted_fingerprint else OPEN


def _facts(change: FimChange) -> dict[str, Any]:
    return {
        "path": shown_bytes(change.path),
        "path_b64": base64.b64encode(change.path).decode("ascii"),
        "change": change.change,
        "cause": change.cause,
        "package": change.package,
        "note": change.note,
        "attributes": [{"name": a.name, "before": a.before, "after": a.after} for a in change.attributes],
        "fingerprint": change.fingerprint,
    }


def _fresh(now: datetime) -> dict[str, Any]:
    """A change seen for the first time (or again after it was resolved): open, with no acceptance."""
    return {
        "status": OPEN,
        "first_seen_at": now,
        "resolved_at": None,
        "accepted_by": None,
        "accepted_at": None,
        "accepted_reason": None,
        "accepted_fingerprint": None,
    }
