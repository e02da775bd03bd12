"""One check: walk the tree as the policy says, compare it with a verified baseline, collect what happened.

The walk uses the baseline's hash algorithm whatever the policy says (digests of two algorithms never
compare). Without ``full``, the baseline's lines are read once by a `QuickLines` cursor shared by the walk
and the comparison: a path whose line is exactly what it would be written as now is settled from its lstat
alone (no entry, nothing hashed), a file whose size, mtime, ctime, inode and device match otherwise keeps its
baseline digest, and only the lines the walk passed without settling are held (bounded by the walk's own
lead), so memory stays bounded whatever the baseline's size. With ``full`` every file is hashed and
compared by `compare_lines`. Either way a line is decoded only when it differs from the encoding of the
entry now. Entries that could not be read fully become ``errors``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator

from rampart.fim.baseline import Baseline
from rampart.fim.compare import compare_lines
from rampart.fim.model import CheckResult, Entry
from rampart.fim.policy import Policy
from rampart.fim.quick import QuickLines
from rampart.fim.walk import walk


class _Tally:
    """Counts the entries of a stream, the digests among them, and keeps their errors."""

    def __init__(self) -> None:
        self.entries = 0
        self.digests = 0
        self.errors: list[tuple[bytes, str]] = []

    def watch(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            self.entries += 1
            if entry.digest is not None:
                self.digests += 1
            if entry.error is not None:
                self.errors.append((entry.path, entry.error))
            yield entry


def check(
    baseline: Baseline,
    policy: Policy,
    full: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Compare the tree with `baseline` (already verified by `open_baseline`)."""
    notes = _notes(baseline, policy)
    policy = dataclasses.replace(policy, hash=baseline.header.hash)
    tally = _Tally()
    if full:
        now = tally.watch(walk(policy, workers=workers, progress=progress))
        changes = tuple(compare_lines(baseline.lines(), now, policy))
        settled = reused = 0
    else:
        quick = QuickLines(baseline.raw_lines())
        now = tally.watch(walk(policy, workers=workers, progress=progress, quick=quick))
        changes = tuple(quick.changes(now, policy))
        settled, reused = quick.settled, quick.reused
    return CheckResult(
        changes=changes,
        errors=tuple(tally.errors),
        entries=tally.entries + settled,
        hashed=tally.digests - reused,
        baseline_created=baseline.header.created,
        notes=tuple(notes),
    )


def _notes(baseline: Baseline, policy: Policy) -> list[str]:
    notes = []
    if policy.digest() != baseline.header.policy:
        notes.append("the policy is not the one the baseline was made with; `fim update` adopts it")
    if policy.hash != baseline.header.hash:
        notes.append(f"checked with the baseline's {baseline.header.hash} (the policy says {policy.hash})")
    return notes
