"""``rampart db``: update, import and inspect the local advisory database.

Only this module writes to the terminal for these commands: results on stdout, warnings on
stderr, a progress bar only when stdout is a terminal. Heavy imports (httpx, rich, the builder)
happen inside the commands so ``rampart --help`` stays fast.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rampart.cli.settings import Settings, settings_of

if TYPE_CHECKING:
    from rampart.advisories.db import DatabaseStatus
    from rampart.advisories.importer import BuildReport
    from rampart.advisories.progress import Progress

app = typer.Typer(help="Manage the local advisory database.", no_args_is_help=True)


class StatusFormat(enum.StrEnum):
    """How ``db status`` prints: a table, or plain JSON; ``auto`` is a table on a terminal, JSON when piped."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"


@app.command("update")
def update_command(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="Base URL or directory laid out as <Ecosystem>/all.zip; repeat to try several in order.",
            show_default=False,
        ),
    ] = None,
    ecosystem: Annotated[
        list[str] | None,
        typer.Option("--ecosystem", help="OSV ecosystem to fetch (repeatable).", show_default=False),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Network timeout in seconds.", min=1.0)] = 60.0,
) -> None:
    """Download the OSV exports and rebuild the database (default: Debian, Ubuntu, PyPI, npm, Go)."""
    from rampart.advisories.fetch import DEFAULT_SOURCE
    from rampart.advisories.update import DEFAULT_ECOSYSTEMS, update_database

    settings = settings_of(ctx)
    with _progress(settings) as progress:
        report = update_database(
            settings.database_path,
            source or [DEFAULT_SOURCE],
            ecosystem or DEFAULT_ECOSYSTEMS,
            progress=progress,
            timeout=timeout,
        )
    _print_report(report, "updated", settings)


@app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="OSV zips, folders of OSV JSON/YAML, or single records.")
    ],
) -> None:
    """Load OSV records from local files (offline), adding to what the database holds."""
    from rampart.advisories.importer import import_paths

    settings = settings_of(ctx)
    with _progress(settings) as progress:
        report = import_paths(settings.database_path, paths, progress=progress)
    _print_report(report, "imported", settings)


@app.command("status")
def status_command(
    ctx: typer.Context,
    output: Annotated[StatusFormat, typer.Option("--format", help="Output format.")] = StatusFormat.AUTO,
) -> None:
    """Show the database's age, sources, counts per ecosystem, schema version and file size."""
    from rampart.advisories.db import AdvisoryDB

    settings = settings_of(ctx)
    with AdvisoryDB.open(settings.database_path) as db:
        status = db.status()
    now = datetime.now(UTC)
    if output is StatusFormat.JSON or (output is StatusFormat.AUTO and not settings.interactive):
        typer.echo(json.dumps(status_json(status, now), indent=2))
    else:
        _print_status_table(status, now)


def _print_report(report: BuildReport, verb: str, settings: Settings) -> None:
    from rampart.report.escape import safe_text

    for warning in report.warnings:
        sys.stderr.write(f"rampart: warning: {safe_text(warning)}\n")
    if not report.changed:
        typer.echo(f"advisory database {settings.database_path} is up to date (nothing changed)")
        return
    typer.echo(report.stats.summary(verb))
    if report.info is not None:
        counts = ", ".join(f"{k} {v:,}" for k, v in report.info.counts.items())
        typer.echo(f"database {report.info.path}: {counts}")


def status_json(status: DatabaseStatus, now: datetime) -> dict[str, Any]:
    """The plain-JSON form of ``db status``."""
    info = status.info
    return {
        "path": info.path,
        "schema_version": info.schema_version,
        "built_at": info.built_at.isoformat() if info.built_at else None,
        "age_seconds": int((now - info.built_at).total_seconds()) if info.built_at else None,
        "size_bytes": status.size_bytes,
        "total": status.total,
        "withdrawn": status.withdrawn,
        "counts": info.counts,
        "sources": [
            {
                "key": s.key,
                "location": s.location,
                "fetched_at": s.fetched_at,
                "records": s.records,
                "etag": s.etag,
                "last_modified": s.last_modified,
                "sha256": s.sha256,
                "size": s.size,
            }
            for s in status.sources
        ],
    }


def _print_status_table(status: DatabaseStatus, now: datetime) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from rampart.advisories.freshness import describe_age
    from rampart.report.escape import safe_text

    info = status.info
    console = Console(highlight=False)
    age = describe_age(now - info.built_at) if info.built_at else "unknown"
    console.print(Text(f"database   {safe_text(info.path)}"))
    console.print(Text(f"schema     {info.schema_version}   size {status.size_bytes / 1e6:.1f} MB"))
    console.print(
        Text(f"built      {info.built_at:%Y-%m-%d %H:%M UTC} ({age} ago)" if info.built_at else "built ?")
    )
    console.print(Text(f"records    {status.total:,} ({status.withdrawn:,} withdrawn)"))
    counts = Table("ecosystem", "advisories", title=None)
    for family, count in info.counts.items():
        counts.add_row(Text(safe_text(family)), f"{count:,}")
    console.print(counts)
    sources = Table("source", "location", "records", "fetched")
    for s in status.sources:
        sources.add_row(
            Text(safe_text(s.key)), Text(safe_text(s.location)), f"{s.records:,}", s.fetched_at[:19]
        )
    console.print(sources)


@contextmanager
def _progress(settings: Settings) -> Iterator[Progress]:
    """A rich progress bar on a terminal; nothing when piped."""
    from rampart.advisories.progress import NO_PROGRESS

    if not settings.interactive:
        yield NO_PROGRESS
        return
    bar = _RichProgress()
    with bar.progress:
        yield bar


class _RichProgress:
    """`Progress` drawn with rich: one bar per download or import task."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
        self._tasks: dict[str, Any] = {}

    def start(self, task: str, description: str, total: int | None) -> None:
        from rich.markup import escape

        from rampart.report.escape import safe_text

        self._tasks[task] = self.progress.add_task(escape(safe_text(description)), total=total)

    def advance(self, task: str, amount: int) -> None:
        if task in self._tasks:
            self.progress.advance(self._tasks[task], amount)

    def finish(self, task: str) -> None:
        self._tasks.pop(task, None)
