"""``db update``: fetch each ecosystem's OSV export from the sources and rebuild the database.

Sources are tried in order for each ecosystem; a source without it (404 or no file) is skipped,
and when none has it a warning says so and the database keeps what it had. Ecosystems that come
back unchanged (304, same sha256) keep their rows, copied into the new file; when nothing at all
changed the current file is left exactly as it is. All downloads finish and verify before the
build starts, and the build swaps in atomically, so any failure leaves the old database working.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rampart.advisories.build import Builder
from rampart.advisories.fetch import (
    DEFAULT_SOURCE,
    MAX_DOWNLOAD_BYTES,
    MISSING,
    NEW,
    TIMEOUT_SECONDS,
    Fetched,
    Fetcher,
    open_source,
)
from rampart.advisories.importer import BuildReport, current_database, load_records
from rampart.advisories.inputs import count_members, iter_zip
from rampart.advisories.progress import NO_PROGRESS, Progress
from rampart.advisories.schema import SourceMeta, previous_sources
from rampart.advisories.stats import ImportStats
from rampart.errors import ParseError, UpdateError

DEFAULT_ECOSYSTEMS = ("Debian", "Ubuntu", "PyPI", "npm", "Go")


def update_database(
    db_path: Path,
    sources: Sequence[str] = (DEFAULT_SOURCE,),
    ecosystems: Sequence[str] = DEFAULT_ECOSYSTEMS,
    *,
    progress: Progress = NO_PROGRESS,
    now: datetime | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> BuildReport:
    """Fetch, verify, rebuild and swap; returns ``changed=False`` when everything was current."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    keep_from, warnings = current_database(db_path)
    previous = previous_sources(db_path) if keep_from else {}
    fetchers = [
        open_source(s, db_path.parent, progress, timeout=timeout, max_bytes=max_bytes) for s in sources
    ]
    results: list[Fetched] = []
    try:
        for ecosystem in dict.fromkeys(ecosystems):
            results.append(_fetch_first(fetchers, ecosystem, previous.get(ecosystem), warnings))
        return _rebuild(db_path, results, keep_from, warnings, progress, now or datetime.now(UTC))
    finally:
        _clean_up(fetchers, results)


def _fetch_first(
    fetchers: Sequence[Fetcher], ecosystem: str, previous: SourceMeta | None, warnings: list[str]
) -> Fetched:
    """The first source that has the ecosystem; a warning when none does."""
    tried = []
    for fetcher in fetchers:
        result = fetcher.fetch(ecosystem, previous)
        if result.status != MISSING:
            return result
        tried.append(result.location)
    warnings.append(f"no {ecosystem} data at {', '.join(tried)}; keeping what the database had")
    return result


def _rebuild(
    db_path: Path,
    results: list[Fetched],
    keep_from: Path | None,
    warnings: list[str],
    progress: Progress,
    now: datetime,
) -> BuildReport:
    new = [r for r in results if r.status == NEW]
    stats = ImportStats(sources=len(new))
    if not new and keep_from is not None:
        return BuildReport(None, stats, tuple(warnings), changed=False)
    if not new:
        raise UpdateError("none of the sources had any of the requested ecosystems")
    with Builder(db_path) as builder:
        for fetched in new:
            builder.set_source(_load(builder, fetched, stats, progress, now))
        stats.records, stats.withdrawn = builder.pending_counts()
        info = builder.finish(now, keep_from, {r.ecosystem for r in new})
    return BuildReport(info, stats, tuple(warnings))


def _load(
    builder: Builder, fetched: Fetched, stats: ImportStats, progress: Progress, now: datetime
) -> SourceMeta:
    assert fetched.path is not None
    try:
        progress.start(fetched.ecosystem, f"import {fetched.ecosystem}", count_members(fetched.path))
        taken = load_records(builder, iter_zip(fetched.path), fetched.ecosystem, stats, progress)
    except ParseError as error:
        message = error.message.removeprefix(f"{fetched.path}: ")
        raise UpdateError(f"{fetched.location}: {message}") from None
    progress.finish(fetched.ecosystem)
    return fetched.source_meta(now.isoformat(), taken)


def _clean_up(fetchers: Sequence[Fetcher], results: Sequence[Fetched]) -> None:
    for fetcher in fetchers:
        fetcher.close()
    for result in results:
        if result.temporary and result.path is not None:
            result.path.unlink(missing_ok=True)
