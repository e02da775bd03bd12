"""The terminal report: findings grouped by package, severity colours, then what the scan could not judge.

Pure: renders a ScanResult to text (with or without ANSI colour) through rich; the CLI prints it.
Everything that came from the target passes through ``safe_text`` and rich ``Text`` (never markup).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from rampart.model import Finding, ScanResult, Severity
from rampart.report.escape import safe_text
from rampart.report.json import summary_of

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.UNKNOWN: "dim",
}
MAX_LISTED_ERRORS = 20
SHORT_DIGEST = 12


def render_table(result: ScanResult, now: datetime, *, width: int = 120, color: bool = False) -> str:
    """The report as text ``width`` columns wide; ANSI colour codes only when ``color``."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, color_system="standard" if color else None
    )
    console.print(Group(*_sections(result, now)))
    return buffer.getvalue()


def _sections(result: ScanResult, now: datetime) -> Iterator[RenderableType]:
    yield _header(result, now)
    if result.findings:
        yield _findings_table(result.findings)
    else:
        yield Text("No known vulnerabilities found.", style="green")
    yield _totals(result)
    yield from _notes(result)


def _header(result: ScanResult, now: datetime) -> Text:
    inventory = result.inventory
    os_name = inventory.os.pretty_name or inventory.os.id if inventory.os else "unknown OS"
    text = Text(f"Target: {safe_text(inventory.target)} ({safe_text(os_name)})", style="bold")
    text.append(f"\nPackages: {len(inventory.packages)} in {inventory.files_seen} files walked", style="")
    if result.database is not None and result.database.built_at is not None:
        age_days = (now - result.database.built_at).total_seconds() / 86400
        built = result.database.built_at.strftime("%Y-%m-%d %H:%M UTC")
        text.append(f"\nAdvisory database: built {built} ({age_days:.1f} days old)", style="")
    return text


def _findings_table(findings: tuple[Finding, ...]) -> Table:
    """One row per finding; a Layer column (short digests) only when some package came from an image layer."""
    table = Table(show_lines=False, header_style="bold", expand=False)
    with_layers = any(f.package.layer for f in findings)
    columns = ("Package", "Installed", "Vulnerability", "Severity", "Fixed in", "Advisories")
    for column in (*columns, *(("Layer",) if with_layers else ())):
        table.add_column(column, overflow="fold")
    ordered = sorted(findings, key=lambda f: (_group_key(f), -f.severity, f.vulnerability_id))
    repeated = _names_found_in_several_places(findings)
    for (name, *_), group in groupby(ordered, key=_group_key):
        rows = list(group)
        for index, finding in enumerate(rows):
            cells = _cells(finding, first=index == 0, show_location=name in repeated)
            if with_layers:
                cells = (*cells, Text(short_digest(finding.package.layer) if index == 0 else "", style="dim"))
            table.add_row(*cells, end_section=index == len(rows) - 1)
    return table


def short_digest(digest: str | None) -> str:
    """``sha256:0123456789abcdef...`` -> ``0123456789ab`` (what a reader needs to tell layers apart)."""
    if not digest:
        return ""
    return safe_text((digest.partition(":")[2] or digest)[:SHORT_DIGEST])


def _names_found_in_several_places(findings: tuple[Finding, ...]) -> set[str]:
    """Package names whose findings come from more than one file: their rows say which file."""
    places: dict[str, set[str]] = {}
    for finding in findings:
        places.setdefault(finding.package.name, set()).add(finding.package.location)
    return {name for name, where in places.items() if len(where) > 1}


def _group_key(finding: Finding) -> tuple[str, str, str, str]:
    package = finding.package
    return (package.name, package.version, package.ecosystem, package.location)


def _cells(finding: Finding, *, first: bool, show_location: bool) -> tuple[Text, ...]:
    package = finding.package
    name = Text(safe_text(package.name), style="bold") if first else Text("")
    if first and show_location:
        name.append("\n" + safe_text(package.location), style="dim")
    version = Text(safe_text(package.version)) if first else Text("")
    fixed = ", ".join(finding.fixed_versions) if finding.fixed else "unfixed"
    advisories = ", ".join(a for a in finding.advisory_ids if a != finding.vulnerability_id)
    return (
        name,
        version,
        Text(safe_text(finding.vulnerability_id)),
        Text(finding.severity.name, style=SEVERITY_STYLES[finding.severity]),
        Text(safe_text(fixed), style="green" if finding.fixed else "dim"),
        Text(safe_text(advisories)),
    )


def _totals(result: ScanResult) -> Text:
    summary = summary_of(result)
    counts = ", ".join(f"{name}: {count}" for name, count in summary["by_severity"].items())
    text = Text(f"Total: {summary['findings']} ({counts})", style="bold")
    text.append(f" in {summary['vulnerable_packages']} packages; {summary['fixable']} fixable", style="bold")
    if result.ignored:
        text.append(f"; {len(result.ignored)} ignored by the ignore file", style="")
    return text


def _notes(result: ScanResult) -> Iterator[Text]:
    for warning in result.warnings:
        yield Text(f"warning: {safe_text(warning)}", style="yellow")
    if result.unmatchable:
        yield Text(
            f"{len(result.unmatchable)} package/advisory pairs could not be judged (version did not parse); "
            "see --format json",
            style="yellow",
        )
    errors = result.inventory.errors
    for error in errors[:MAX_LISTED_ERRORS]:
        yield Text(f"error: {safe_text(error.path)}: {safe_text(error.message)}", style="red")
    if len(errors) > MAX_LISTED_ERRORS:
        yield Text(
            f"... and {len(errors) - MAX_LISTED_ERRORS} more file errors (see --format json)", style="red"
        )
