"""The scan pipeline: target -> inventory (facts) -> matches (judgement) -> triage -> ScanResult.

The one place that wires the stages together; each stage lives in its own package.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rampart.match.source import AdvisorySource
from rampart.model import DatabaseInfo, Inventory, Package, ScanResult
from rampart.triage.filters import FindingFilter
from rampart.triage.ignore import IgnoreRule, apply_ignores

if TYPE_CHECKING:
    from rampart.match.engine import Matcher

DEFAULT_MAX_DB_AGE = timedelta(days=7)


class AdvisoryDatabase(AdvisorySource, Protocol):
    """An open advisory database: lookups plus what it knows about itself."""

    def info(self) -> DatabaseInfo: ...

    def covers(self, ecosystem: str) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ScanOptions:
    """What the user asked of one scan."""

    database_path: Path
    now: datetime
    finding_filter: FindingFilter = field(default_factory=FindingFilter)
    ignore_rules: tuple[IgnoreRule, ...] = ()
    max_db_age: timedelta = DEFAULT_MAX_DB_AGE


def scan_path(
    target_path: str, options: ScanOptions, progress: Callable[[int], None] | None = None
) -> ScanResult:
    """Inventory the tree at ``target_path`` and judge it against the advisory database."""
    from rampart.inventory.collect import collect_inventory
    from rampart.match.engine import Matcher
    from rampart.target import open_target

    database = _open_database(options.database_path)
    try:
        target = open_target(target_path)
        matcher = Matcher(database)  # fed while the walk goes on
        inventory = collect_inventory(target, progress, found=matcher.add)
        return judge(inventory, database, options, matcher)
    finally:
        database.close()


def _open_database(path: Path) -> AdvisoryDatabase:
    from rampart.advisories.db import AdvisoryDB

    return AdvisoryDB.open(path)


def judge(
    inventory: Inventory, database: AdvisoryDatabase, options: ScanOptions, matcher: Matcher | None = None
) -> ScanResult:
    """Match an inventory (unless ``matcher`` has judged its packages already) and apply triage choices."""
    from rampart.match.engine import match_packages

    info = database.info()
    outcome = matcher.outcome() if matcher else match_packages(inventory.packages, database)
    triaged = apply_ignores(outcome.findings, options.ignore_rules, options.now.date())
    warnings = (
        *_freshness_warnings(info, options),
        *_coverage_warnings(inventory.packages, database),
        *_managed_notes(inventory.packages),
        *(
            f"ignore rule for {rule.id} expired on {rule.expires}; it no longer applies"
            for rule in triaged.expired
        ),
    )
    return ScanResult(
        inventory=inventory,
        findings=options.finding_filter.apply(triaged.kept),
        database=info,
        ignored=triaged.ignored,
        unmatchable=outcome.unmatchable,
        warnings=warnings,
    )


def _freshness_warnings(info: DatabaseInfo, options: ScanOptions) -> Iterable[str]:
    from rampart.advisories.freshness import staleness_warning

    warning = staleness_warning(info, options.max_db_age, options.now)
    return (warning,) if warning else ()


def _managed_notes(packages: Sequence[Package]) -> Iterable[str]:
    """Say how many language packages were left to their OS package's advisories."""
    managed = Counter(p.managed_by for p in packages if p.managed_by)
    for manager, count in sorted(managed.items()):
        yield (
            f"{count} language packages installed by {manager} were judged through their {manager} "
            "packages, not their upstream advisories (the distribution patches them itself)"
        )


def _coverage_warnings(packages: Sequence[Package], database: AdvisoryDatabase) -> Iterable[str]:
    """Say so when installed packages belong to an ecosystem the database knows nothing about."""
    installed = Counter(package.ecosystem for package in packages)
    for ecosystem, count in sorted(installed.items()):
        if not database.covers(ecosystem):
            yield (
                f"the advisory database has no advisories for {ecosystem}: "
                f"its {count} installed packages were not checked"
            )
