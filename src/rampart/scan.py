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
    from rampart.target.base import Target
    from rampart.triage.vex import VexStatement

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
    vex_statements: tuple[VexStatement, ...] = ()
    max_db_age: timedelta = DEFAULT_MAX_DB_AGE


def scan_path(
    target_path: str, options: ScanOptions, progress: Callable[[int], None] | None = None
) -> ScanResult:
    """Inventory the tree at ``target_path`` and judge it against the advisory database."""
    from rampart.target import open_target

    database = _open_database(options.database_path)  # first: a missing database is the first error
    try:
        return _scan_open_target(open_target(target_path), database, options, progress)
    finally:
        database.close()


def scan_target(
    target: Target, options: ScanOptions, progress: Callable[[int], None] | None = None
) -> ScanResult:
    """Inventory an opened target (an image, a bundle) and judge it against the advisory database."""
    database = _open_database(options.database_path)
    try:
        return _scan_open_target(target, database, options, progress)
    finally:
        database.close()


def _scan_open_target(
    target: Target, database: AdvisoryDatabase, options: ScanOptions, progress: Callable[[int], None] | None
) -> ScanResult:
    from rampart.inventory.collect import collect_inventory
    from rampart.match.engine import Matcher

    matcher = Matcher(database)  # fed while the walk goes on
    inventory = collect_inventory(target, progress, found=matcher.add)
    return judge(inventory, database, options, matcher)


def scan_sbom(sbom_path: str, options: ScanOptions) -> ScanResult:
    """Judge the packages an SBOM lists (by their purls) against the advisory database."""
    from dataclasses import replace

    from rampart.sbom import read_sbom

    database = _open_database(options.database_path)
    try:
        read = read_sbom(Path(sbom_path))
        result = judge(read.inventory(), database, options)
        return replace(result, warnings=(*read.warnings, *result.warnings))
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
    from rampart.triage.vex import apply_vex

    info = database.info()
    outcome = matcher.outcome() if matcher else match_packages(inventory.packages, database)
    triaged = apply_ignores(outcome.findings, options.ignore_rules, options.now.date())
    vexed = apply_vex(triaged.kept, options.vex_statements)
    warnings = (
        *_freshness_warnings(info, options),
        *_coverage_warnings(inventory.packages, database),
        *_managed_notes(inventory.packages),
        *(
            f"ignore rule for {rule.id} expired on {rule.expires}; it no longer applies"
            for rule in triaged.expired
        ),
        *vexed.summary,
    )
    return ScanResult(
        inventory=inventory,
        findings=options.finding_filter.apply(vexed.kept),
        database=info,
        ignored=(*triaged.ignored, *vexed.hidden),
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
