"""``rampart scan``: inventory a host or root filesystem and match it against the advisory database."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.settings import Settings, settings_of

if TYPE_CHECKING:
    from rampart.model import ScanResult
    from rampart.scan import ScanOptions
    from rampart.target.base import Target

DEFAULT_IGNORE_FILE = Path(".rampartignore.yaml")


class OutputFormat(enum.StrEnum):
    """Report formats; ``auto`` is a table on a terminal and JSON when piped."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"
    SARIF = "sarif"


PlatformOption = Annotated[
    str | None,
    typer.Option("--platform", help="Image platform: os/arch or os/arch/variant (default linux/amd64)."),
]
InsecureOption = Annotated[
    bool,
    typer.Option(
        "--insecure", help="With 'image': reach the registry over plain HTTP (trusted networks only)."
    ),
]
TagOption = Annotated[
    str | None, typer.Option("--tag", help="The image of a docker save tarball that holds several.")
]

# `rampart scan KIND REF`: targets that are not a directory tree.
TARGET_KINDS = ("image", "sbom", "zip")
OPENED_KINDS = ("image", "zip")
"""The kinds read through a Target opened from REF (an SBOM is judged from its purls instead)."""


def scan_command(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="Root of the tree to scan: '/' for this host, or a directory; "
            "or 'image' / 'zip' / 'sbom' then REF."
        ),
    ] = "/",
    ref: Annotated[
        str | None,
        typer.Argument(
            help="With 'image': an OCI layout directory, oci-archive or docker save tarball, or a registry "
            "reference host/repo:tag; "
            "with 'zip': a function bundle (.zip); with 'sbom': a CycloneDX or SPDX JSON file.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="auto: table on a terminal, JSON when piped; or cyclonedx, spdx, sarif."
        ),
    ] = OutputFormat.AUTO,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to a file.")] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", "-s", help="Only these severities, e.g. HIGH,CRITICAL.")
    ] = None,
    ignore_unfixed: Annotated[
        bool, typer.Option("--ignore-unfixed", help="Hide findings with no fix yet.")
    ] = False,
    exit_code: Annotated[
        int, typer.Option("--exit-code", help="Exit with this code when findings remain (CI).")
    ] = 0,
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Fail (exit 1, or --exit-code) at this severity or worse.")
    ] = None,
    ignore_file: Annotated[
        Path | None,
        typer.Option("--ignore-file", help="Accepted risks (YAML); default .rampartignore.yaml if present."),
    ] = None,
    max_db_age: Annotated[
        float, typer.Option("--max-db-age", help="Warn when the advisory database is older (days).")
    ] = 7.0,
    vex: Annotated[
        list[Path] | None,
        typer.Option(
            "--vex", help="OpenVEX or CycloneDX VEX statements to apply (repeatable).", show_default=False
        ),
    ] = None,
    platform: PlatformOption = None,
    tag: TagOption = None,
    insecure: InsecureOption = False,
) -> None:
    """Find known vulnerabilities on this host, in a root filesystem directory, an image or an SBOM."""
    settings = settings_of(ctx)
    options = _options(settings, severity, ignore_unfixed, fail_on, ignore_file, max_db_age, vex or [])
    with cyclic_gc_paused():
        result = _run(ScanTarget(target, ref, platform, tag, insecure), options, settings)
        _write_report(result, options.now, output_format, output, settings)
    _exit(result, exit_code, fail_on)


def _options(
    settings: Settings,
    severity: str | None,
    ignore_unfixed: bool,
    fail_on: str | None,
    ignore_file: Path | None,
    max_db_age: float,
    vex_files: list[Path],
) -> ScanOptions:
    from rampart.scan import ScanOptions
    from rampart.triage.filters import FindingFilter, parse_severities, parse_threshold
    from rampart.triage.ignore import load_ignore_file
    from rampart.triage.vex import load_vex_files

    if fail_on is not None:
        parse_threshold(fail_on)  # validate before the scan runs
    if ignore_file is None and DEFAULT_IGNORE_FILE.is_file():
        ignore_file = DEFAULT_IGNORE_FILE
    vex = load_vex_files(vex_files)
    for warning in vex.warnings:
        sys.stderr.write(f"rampart: {warning}\n")
    return ScanOptions(
        database_path=settings.database_path,
        now=datetime.now(UTC),
        finding_filter=FindingFilter(parse_severities(severity) if severity else None, ignore_unfixed),
        ignore_rules=load_ignore_file(ignore_file) if ignore_file else (),
        vex_statements=vex.statements,
        max_db_age=timedelta(days=max_db_age),
    )


@dataclass(frozen=True)
class ScanTarget:
    """What to scan: a tree (``target``), or a kind from TARGET_KINDS and its ``ref``."""

    target: str
    ref: str | None
    platform: str | None
    tag: str | None
    insecure: bool = False


def _run(what: ScanTarget, options: ScanOptions, settings: Settings) -> ScanResult:
    from rampart.errors import UsageError
    from rampart.scan import scan_path, scan_sbom

    if what.ref is not None and what.target not in TARGET_KINDS:
        raise UsageError(
            f"unexpected argument {what.ref!r}: use `rampart scan image REF`, `scan zip FILE` or `scan sbom FILE`"
        )
    if what.target == "sbom" and what.ref is not None:
        return scan_sbom(what.ref, options)
    with progress_bar(settings) as progress:
        if what.target in OPENED_KINDS and what.ref is not None:
            return _scan_opened(what, options, progress)
        return scan_path(what.target, options, progress)


def _scan_opened(
    what: ScanTarget, options: ScanOptions, progress: Callable[[int], None] | None
) -> ScanResult:
    from rampart.scan import scan_target

    with opened_target(what) as opened:
        return scan_target(opened, options, progress)


@contextmanager
def opened_target(what: ScanTarget) -> Iterator[Target]:
    """The image or zip bundle ``what.ref`` names (``what.target`` says which), closed afterwards."""
    if what.target == "zip":
        from rampart.bundle import open_bundle

        with open_bundle(str(what.ref)) as bundle:
            yield bundle
        return
    with opened_image(what) as image:
        yield image


@contextmanager
def opened_image(what: ScanTarget) -> Iterator[Target]:
    """The image ``what.ref`` names, closed afterwards."""
    from rampart.image import Platform, open_image

    platform = Platform.parse(what.platform) if what.platform else None
    with open_image(str(what.ref), platform, what.tag, insecure=what.insecure) as image:
        yield image


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A one-shot scan builds hundreds of thousands of objects and no reference cycles worth finding:
    pausing the cyclic collector for it saves about a twentieth of the run (docs/benchmarks.md)."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def progress_bar(settings: Settings) -> Iterator[Callable[[int], None] | None]:
    """A file count on stderr when interactive; nothing when piped."""
    with counting("scanning", "files") as progress:
        yield progress


@contextmanager
def counting(doing: str, unit: str) -> Iterator[Callable[[int], None] | None]:
    """``doing: N unit`` with a spinner on stderr when it is a terminal; nothing when piped.

    Refreshed from the caller's own thread (no refresh thread), so the work may fork worker processes.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(f"{doing}: 0 {unit}")
        yield lambda count: bar.update(task, description=f"{doing}: {count:,} {unit}", refresh=True)


def _write_report(
    result: ScanResult, now: datetime, output_format: OutputFormat, output: Path | None, settings: Settings
) -> None:
    to_terminal = output is None and settings.interactive
    if output_format in (OutputFormat.CYCLONEDX, OutputFormat.SPDX):
        from rampart.cli.sbom import SbomFormat, render_result

        text = render_result(result, SbomFormat(output_format.value), now)
    elif output_format is OutputFormat.SARIF:
        from rampart.report.scan_sarif import render_scan_sarif

        text = render_scan_sarif(result, now)
    elif output_format is OutputFormat.JSON or (output_format is OutputFormat.AUTO and not to_terminal):
        from rampart.report.json import render_json

        text = render_json(result, now)
    else:
        from rampart.report.table import render_table

        text = render_table(result, now, width=_width(), color=to_terminal)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _width() -> int:
    import shutil

    return max(80, shutil.get_terminal_size((120, 40)).columns)


def _exit(result: ScanResult, exit_code: int, fail_on: str | None) -> None:
    from rampart.triage.filters import ExitPolicy, parse_threshold

    policy = ExitPolicy(exit_code, parse_threshold(fail_on) if fail_on else None)
    status = policy.status(result.findings)
    if status:
        raise typer.Exit(status)
