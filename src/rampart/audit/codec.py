"""Canonical bytes of an audit event, its hash, and the strict record form used in files and exports.

Canonical form: the event's fields without `hash` as JSON with sorted keys, no whitespace, UTF-8,
and the time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. ``hash = sha256(prev_hash + canonical)`` in hex.
Records written to files or exports escape every non-ASCII character, so no control sequence
reaches a terminal or SIEM raw.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from rampart.audit.events import AuditEvent
from rampart.errors import AuditError

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
FIELDS = ("seq", "time", "actor", "action", "target", "outcome", "details", "prev_hash", "hash")


def format_time(time: datetime) -> str:
    """The fixed ISO form of a UTC time, always with microseconds and a ``Z``."""
    return time.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: object) -> datetime:
    """Read exactly the `format_time` form back into an aware UTC datetime."""
    if not isinstance(text, str) or len(text) != 27:
        raise AuditError("audit time must look like 2026-01-31T12:00:00.000000Z")
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise AuditError("audit time must look like 2026-01-31T12:00:00.000000Z") from None


def to_record(event: AuditEvent) -> dict[str, Any]:
    """The event as a JSON-ready dict, `hash` included."""
    return {
        "seq": event.seq,
        "time": format_time(event.time),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome.value,
        "details": dict(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def canonical_bytes(event: AuditEvent) -> bytes:
    """The bytes the event's hash covers: every field but `hash`, canonically serialised."""
    record = to_record(event)
    del record["hash"]
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(event: AuditEvent) -> str:
    """Recompute the hash an event should carry, ignoring the one it does carry."""
    return hashlib.sha256(event.prev_hash.encode("ascii") + canonical_bytes(event)).hexdigest()


def to_line(event: AuditEvent) -> str:
    """One JSON line (without the newline) for a file or a SIEM, ASCII only."""
    return json.dumps(to_record(event), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def from_record(record: object) -> AuditEvent:
    """Build an event from a parsed JSON object, refusing missing, extra or mistyped fields."""
    if not isinstance(record, dict):
        raise AuditError("an audit record must be a JSON object")
    if set(record) != set(FIELDS):
        raise AuditError(f"an audit record must have exactly the fields {', '.join(FIELDS)}")
    return AuditEvent(
        seq=record["seq"],
        time=parse_time(record["time"]),
        actor=record["actor"],
        action=record["action"],
        target=record["target"],
        outcome=record["outcome"],
        details=record["details"],
        prev_hash=record["prev_hash"],
        hash=record["hash"],
    )
