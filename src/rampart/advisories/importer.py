"""``db import``: load OSV records from local zips, folders and files into a new database file.

Importing adds to the current database: its records are kept unless an imported record has the
same id. Per-record problems are counted in `ImportStats`, never fatal; an input that cannot be
read at all (missing path, damaged zip) aborts the import and leaves the current database alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rampart.advisories import schema
from rampart.advisories.build import Builder
from rampart.advisories.inputs import Limits, RawRecord, count_members, file_sha256, iter_records
from rampart.advisories.osv import RecordError, load_record
from rampart.advisories.progress import NO_PROGRESS, Progress
from rampart.advisories.schema import SourceMeta
from rampart.advisories.stats import ImportStats
from rampart.errors import DatabaseError, UsageError
from rampart.model import Advisory, DatabaseInfo


@dataclass(frozen=True)
class BuildReport:
    """What one import or update did: the new database's info, the counts, and any warnings."""

    info: DatabaseInfo | None
    stats: ImportStats
    warnings: tuple[str, ...] = ()
    changed: bool = True


def parse_raw(raw: RawRecord, stats: ImportStats) -> Advisory | None:
    """The advisory in one raw record, or None after counting why it was skipped."""
    if raw.problem is not None:
        stats.skip(raw.problem)
        return None
    try:
        return load_record(raw.data, raw.fmt)
    except RecordError as error:
        stats.skip(error.reason)
        return None


def load_records(
    builder: Builder, records: Iterable[RawRecord], source: str, stats: ImportStats, progress: Progress
) -> int:
    """Feed records into ``builder`` under ``source``; returns how many parsed."""
    taken = 0
    for raw in records:
        progress.advance(source, 1)
        advisory = parse_raw(raw, stats)
        if advisory is None:
            continue
        taken += 1
        if not builder.add(advisory, source):
            stats.duplicates += 1
    return taken


def current_database(path: Path) -> tuple[Path | None, list[str]]:
    """The current database if its rows can be carried over, else None and a warning."""
    if not path.exists():
        return None, []
    try:
        schema.connect_readonly(path).close()
    except DatabaseError as error:
        return None, [f"replacing the existing database, which cannot be read: {error.message}"]
    return path, []


def import_paths(
    db_path: Path, paths: Sequence[Path], *, progress: Progress = NO_PROGRESS, now: datetime | None = None
) -> BuildReport:
    """Import ``paths`` on top of the database at ``db_path`` and swap the result in."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    stamp = now or datetime.now(UTC)
    stats = ImportStats(sources=len(paths))
    keep_from, warnings = current_database(db_path)
    with Builder(db_path) as builder:
        for path in paths:
            builder.set_source(_import_one(builder, path, stats, progress, stamp))
        stats.records, stats.withdrawn = builder.pending_counts()
        info = builder.finish(stamp, keep_from, drop_sources=set())
    return BuildReport(info, stats, tuple(warnings))


def _import_one(
    builder: Builder, path: Path, stats: ImportStats, progress: Progress, now: datetime
) -> SourceMeta:
    key = f"file:{path.resolve()}"
    total = count_members(path) if path.is_file() and path.suffix.lower() == ".zip" else None
    progress.start(key, f"import {path.name}", total)
    taken = load_records(builder, iter_records([path], Limits()), key, stats, progress)
    progress.finish(key)
    digest = file_sha256(path) if path.is_file() else None
    size = path.stat().st_size if path.is_file() else None
    return SourceMeta(key, str(path.resolve()), now.isoformat(), taken, sha256=digest, size=size)
