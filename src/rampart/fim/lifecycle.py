"""The life of a baseline: made (init), verified and checked (check), accepted anew (update).

``init`` walks the policy's tree into a signed baseline and starts its acceptance log. ``check`` compares the
tree with a verified baseline, using the policy the baseline was signed with (so a swapped policy file
cannot hide a path), and explains changes with the package manager's records. ``update`` records the tree
again, compares the old baseline with the new one (so exactly what was recorded is what is accepted),
keeps only explained changes when asked, and appends a signed line with the reason to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from rampart.fim import acceptance
from rampart.fim.baseline import Baseline, new_header, open_baseline, write_baseline
from rampart.fim.check import check as check_tree
from rampart.fim.compare import QuickReuse, compare
from rampart.fim.model import Change, CheckResult, Entry
from rampart.fim.order import path_key
from rampart.fim.outcome import needs_review
from rampart.fim.policy import Policy, parse_policy
from rampart.fim.signing import Signer, Verifier
from rampart.fim.walk import walk

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class Made:
    """A new baseline: how many paths it holds and how many files were hashed for it."""

    entries: int
    hashed: int


@dataclass(frozen=True)
class Accepted:
    """An update: what changed since the old baseline (explained), what was accepted, and the log."""

    result: CheckResult
    counts: dict[str, int]
    log: Path


class _Counter:
    def __init__(self) -> None:
        self.digests = 0

    def watch(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            self.digests += entry.digest is not None
            yield entry


def open_verified(path: Path, verifier: Verifier, any_host: bool = False) -> Baseline:
    """The baseline, verified, and (for this host's) the one its acceptance log last accepted."""
    baseline = open_baseline(path, verifier, any_host=any_host)
    if not any_host:
        acceptance.verify_latest(acceptance.log_path_for(path), verifier, baseline.digest)
    return baseline


def init(path: Path, policy: Policy, signer: Signer, workers: int | None, progress: Progress) -> Made:
    """Record the tree in a new baseline at ``path``; a previous log is kept aside, a new one started."""
    counter = _Counter()
    header = new_header(policy.digest(), policy.to_yaml(), policy.hash)
    entries = write_baseline(
        path, counter.watch(walk(policy, workers=workers, progress=progress)), header, signer
    )
    log = acceptance.log_path_for(path)
    if log.exists():
        log.replace(log.with_name(f"{log.name}.{datetime.now(UTC):%Y%m%dT%H%M%SZ}"))
    digest = open_baseline(path, signer.verifier()).digest
    counts = {"added": entries, "removed": 0, "changed": 0}
    acceptance.append_acceptance(log, signer, reason="init", counts=counts, previous="", new=digest)
    return Made(entries, counter.digests)


def baseline_policy(baseline: Baseline) -> Policy:
    """The policy the baseline was signed with."""
    return parse_policy(baseline.header.policy_text, f"the policy inside {baseline.path}")


def check(
    baseline: Baseline, full: bool, workers: int | None, progress: Progress, packages: bool
) -> CheckResult:
    """The tree compared with the baseline, changes explained when ``packages``."""
    result = check_tree(baseline, baseline_policy(baseline), full, workers, progress)
    return explained(result) if packages else result


def explained(result: CheckResult) -> CheckResult:
    """Each change with its cause (package, generated, unexplained); the index is read only if needed."""
    if not result.changes:
        return result
    from rampart.fim.packages import PackageIndex, explain_all

    index = PackageIndex.load(Path("/"))
    changes = explain_all(result.changes, index)
    return replace(result, changes=changes, notes=(*result.notes, *index.notes))


def update(
    baseline: Baseline,
    signer: Signer,
    reason: str,
    policy: Policy | None,
    explained_only: bool,
    workers: int | None,
    progress: Progress,
) -> Accepted:
    """Record the tree again and accept its changes (only the explained ones when asked)."""
    policy = policy or baseline_policy(baseline)
    fresh = baseline.path.with_name(baseline.path.name + ".new")
    try:
        recorded = _record(baseline, policy, signer, fresh, workers, progress)
        result = explained(_compare(baseline, recorded, policy))
        accepted = [c for c in result.changes if not explained_only or not needs_review(c)]
        if explained_only:
            _keep_only(baseline, recorded, {c.path for c in accepted}, policy, signer, fresh)
        fresh.replace(baseline.path)
    finally:
        fresh.unlink(missing_ok=True)
    digest = open_baseline(baseline.path, signer.verifier()).digest
    counts = _counts(accepted)
    log = acceptance.log_path_for(baseline.path)
    acceptance.append_acceptance(
        log, signer, reason=reason, counts=counts, previous=baseline.digest, new=digest
    )
    return Accepted(result, counts, log)


def _record(
    baseline: Baseline, policy: Policy, signer: Signer, fresh: Path, workers: int | None, progress: Progress
) -> Baseline:
    reuse = QuickReuse(baseline.entries()) if policy.hash == baseline.header.hash else None
    header = new_header(policy.digest(), policy.to_yaml(), policy.hash)
    write_baseline(fresh, walk(policy, reuse=reuse, workers=workers, progress=progress), header, signer)
    return open_baseline(fresh, signer.verifier())


def _compare(old: Baseline, new: Baseline, policy: Policy) -> CheckResult:
    changes = tuple(compare(old.entries(), new.entries(), policy))
    errors = tuple((e.path, e.error) for e in new.entries() if e.error is not None)
    return CheckResult(changes, errors, entries=new.header.entries, baseline_created=old.header.created)


def _keep_only(
    old: Baseline, new: Baseline, accepted: set[bytes], policy: Policy, signer: Signer, fresh: Path
) -> None:
    """Rewrite ``fresh`` as the old baseline with only the ``accepted`` paths taken from the new one."""
    merged = merged_entries(old.entries(), new.entries(), accepted)
    header = new_header(policy.digest(), policy.to_yaml(), policy.hash)
    write_baseline(fresh, merged, header, signer)


def merged_entries(old: Iterable[Entry], new: Iterable[Entry], accepted: set[bytes]) -> Iterator[Entry]:
    """Both streams merged in canonical order: the new entry for accepted paths, the old one otherwise."""
    for path, before, after in _pairs(iter(old), iter(new)):
        chosen = after if path in accepted else before
        if chosen is not None:
            yield chosen


def _pairs(old: Iterator[Entry], new: Iterator[Entry]) -> Iterator[tuple[bytes, Entry | None, Entry | None]]:
    before, after = next(old, None), next(new, None)
    while before is not None or after is not None:
        if after is None or (before is not None and path_key(before.path) < path_key(after.path)):
            assert before is not None
            yield before.path, before, None
            before = next(old, None)
        elif before is None or path_key(after.path) < path_key(before.path):
            yield after.path, None, after
            after = next(new, None)
        else:
            yield before.path, before, after
            before, after = next(old, None), next(new, None)


def _counts(changes: Iterable[Change]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0}
    for change in changes:
        counts[change.kind.value] += 1
    return counts
