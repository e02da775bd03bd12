"""The hash chain: appending events with an injected clock, and verifying a stream of them.

Each event's hash covers its content and the previous event's hash (genesis: 64 zeros), so an
edit, deletion or reordering breaks the chain at the first touched entry. Dropping entries from
the tail leaves a valid shorter chain; only an `Anchor` (the last known head, kept apart from the
log and ideally signed, see `rampart.audit.signing`) catches that.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rampart.audit.codec import event_hash
from rampart.audit.events import AuditEvent, DetailValue, Outcome, check_hex, parse_outcome, redact
from rampart.errors import AuditError

if TYPE_CHECKING:
    from rampart.audit.sinks import AuditSink

GENESIS_HASH = "0" * 64
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Anchor:
    """A chain head: the seq and hash of the last entry (seq 0 and `GENESIS_HASH` for an empty log)."""

    seq: int
    hash: str

    def __post_init__(self) -> None:
        if type(self.seq) is not int or self.seq < 0:
            raise AuditError(f"anchor seq must be a non-negative integer, got {self.seq!r}")
        check_hex("anchor hash", self.hash)


GENESIS = Anchor(0, GENESIS_HASH)


class BreakReason(enum.StrEnum):
    """Why verification stopped at an entry."""

    EDITED = "edited"  # the entry's content does not match its hash
    GAP = "gap"  # seq jumps forward: entries deleted
    REORDERED = "reordered"  # seq goes backwards or repeats, or a later entry was moved here
    LINK = "link"  # seq fits but prev_hash is not the previous entry's hash
    ANCHOR_MISMATCH = "anchor-mismatch"  # the entry at the anchor's seq has another hash
    TRUNCATED = "truncated"  # the log ends before the anchor's seq
    MALFORMED = "malformed"  # the stored entry cannot be read at all


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify`: `head` is the last entry that checked out; `position` is 1-based."""

    checked: int
    head: Anchor
    position: int | None = None
    reason: BreakReason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when no entry broke the chain."""
        return self.reason is None


class AuditChain:
    """Builds chained events from a head; writes each to an optional sink before moving the head."""

    def __init__(
        self, sink: AuditSink | None = None, clock: Clock | None = None, head: Anchor = GENESIS
    ) -> None:
        self._sink = sink
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._head = head
        self._lock = threading.Lock()

    @property
    def head(self) -> Anchor:
        """The current head; keep a copy apart from the log (or sign it) to catch truncation."""
        return self._head

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: Outcome | str,
        details: Mapping[str, DetailValue] | None = None,
    ) -> AuditEvent:
        """Seal one event after the head, redacting secret-looking details; returns it."""
        with self._lock:
            seq, prev = self._head.seq + 1, self._head.hash
            clean = redact(details or {})
            draft = AuditEvent(
                seq, self._clock(), actor, action, target, parse_outcome(outcome), clean, prev, prev
            )
            event = replace(draft, hash=event_hash(draft))
            if self._sink is not None:
                self._sink.write(event)
            self._head = Anchor(event.seq, event.hash)
            return event


def verify(
    events: Iterable[AuditEvent], anchor: Anchor | None = None, start: Anchor = GENESIS
) -> VerifyResult:
    """Check a stream of events from `start` on; stop at the first broken entry and say why."""
    stream = iter(events)
    head, checked = start, 0
    for position, event in enumerate(stream, 1):
        broken = _check(event, head, anchor)
        if broken is not None:
            reason, detail = _classify(broken, head, stream)
            return VerifyResult(checked, head, position, reason, detail)
        head, checked = Anchor(event.seq, event.hash), checked + 1
    return _check_end(checked, head, anchor)


def _check(event: AuditEvent, head: Anchor, anchor: Anchor | None) -> tuple[BreakReason, str] | None:
    expected = head.seq + 1
    if event.seq > expected:
        return BreakReason.GAP, f"expected seq {expected}, found seq {event.seq}"
    if event.seq < expected:
        return BreakReason.REORDERED, f"expected seq {expected}, found seq {event.seq} again or out of order"
    if event_hash(event) != event.hash:
        return BreakReason.EDITED, f"entry seq {event.seq} does not match its hash"
    if event.prev_hash != head.hash:
        return BreakReason.LINK, f"entry seq {event.seq} does not chain to the entry before it"
    if anchor is not None and event.seq == anchor.seq and event.hash != anchor.hash:
        return BreakReason.ANCHOR_MISMATCH, f"entry seq {event.seq} differs from the anchored hash"
    return None


def _classify(
    broken: tuple[BreakReason, str], head: Anchor, stream: Iterator[AuditEvent]
) -> tuple[BreakReason, str]:
    """A forward jump followed by the missing seq is a reordering, not a deletion."""
    reason, detail = broken
    if reason is BreakReason.GAP:
        following = next(stream, None)
        if following is not None and following.seq == head.seq + 1:
            return BreakReason.REORDERED, f"{detail}; seq {head.seq + 1} comes after it"
    return reason, detail


def _check_end(checked: int, head: Anchor, anchor: Anchor | None) -> VerifyResult:
    if anchor is not None and head.seq < anchor.seq:
        detail = f"log ends at seq {head.seq} but the anchor says seq {anchor.seq}"
        return VerifyResult(checked, head, checked + 1, BreakReason.TRUNCATED, detail)
    return VerifyResult(checked, head)


def require_ok(result: VerifyResult) -> None:
    """Raise `AuditError` naming the first broken position when `result` is not ok."""
    if not result.ok:
        raise AuditError(
            f"audit chain broken at position {result.position} ({result.reason}): {result.detail}"
        )
