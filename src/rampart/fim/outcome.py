"""What a check means for the caller: which changes need review, the summary counts, the exit status.

Exit status bits (documented in docs/fim.md): 1 paths added, 2 paths removed, 4 paths changed — counting only
changes that need review (unexplained, or a package's file modified outside its package manager; with
``strict`` every change counts) —, 8 some paths could not be read. A refused baseline or any other fatal
error exits 16 (see the CLI), so scripts can tell "changes found" from "could not check".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rampart.fim.model import Cause, Change, ChangeKind, CheckResult

ADDED_BIT, REMOVED_BIT, CHANGED_BIT, UNREADABLE_BIT, FATAL_STATUS = 1, 2, 4, 8, 16
REVIEW = frozenset({Cause.UNEXPLAINED, Cause.PACKAGE_MODIFIED})
_BITS = {ChangeKind.ADDED: ADDED_BIT, ChangeKind.REMOVED: REMOVED_BIT, ChangeKind.CHANGED: CHANGED_BIT}


def needs_review(change: Change) -> bool:
    """Whether nothing rampart knows explains the change (or a package says the file should differ)."""
    return change.cause in REVIEW


def listed(result: CheckResult, only_review: bool) -> tuple[Change, ...]:
    """The changes a report lists: all, or only those that need review."""
    return tuple(c for c in result.changes if needs_review(c)) if only_review else result.changes


@dataclass(frozen=True)
class Summary:
    """Counts of the listed changes by kind and by cause, changes left out, and unreadable paths."""

    by_kind: dict[str, int]
    by_cause: dict[str, int]
    hidden: int
    unreadable: int

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def summarise(result: CheckResult, shown: Sequence[Change]) -> Summary:
    """The summary of exactly the changes ``shown`` (so the counts always equal the rows listed)."""
    kinds = Counter(c.kind.value for c in shown)
    causes = Counter(c.cause.value for c in shown)
    return Summary(
        by_kind={k.value: kinds.get(k.value, 0) for k in ChangeKind},
        by_cause={c.value: causes.get(c.value, 0) for c in Cause},
        hidden=len(result.changes) - len(shown),
        unreadable=len(result.errors),
    )


def exit_status(result: CheckResult, strict: bool = False) -> int:
    """The check's exit status bits."""
    status = 0
    for change in result.changes:
        if strict or needs_review(change):
            status |= _BITS[change.kind]
    return status | (UNREADABLE_BIT if result.errors else 0)
