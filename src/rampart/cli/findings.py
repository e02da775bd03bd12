"""``rampart findings``: list the fleet's findings, summarise them, export them as JSON, CSV or SARIF."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TagOption,
    TokenOption,
    colour,
    emit,
    emit_json,
    open_client,
    parse_tags,
    wants_json,
    width,
)
from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.client.api import FindingQuery
    from rampart.client.models import Finding

app = typer.Typer(help="Vulnerabilities found across the fleet.", no_args_is_help=True)


class FindingStatus(enum.StrEnum):
    """Open, fixed (closed by an upgrade), or both."""

    OPEN = "open"
    FIXED = "fixed"
    ALL = "all"


class SummaryBy(enum.StrEnum):
    """Totals for the whole fleet, or one row per host."""

    FLEET = "fleet"
    HOST = "host"


class ExportFormat(enum.StrEnum):
    """What ``findings export`` writes."""

    JSON = "json"
    CSV = "csv"
    SARIF = "sarif"


SeverityOption = Annotated[
    list[str] | None,
    typer.Option(
        "--severity", "-s", help="Only these severities, e.g. HIGH,CRITICAL (repeatable).", show_default=False
    ),
]
HostOption = Annotated[str | None, typer.Option("--host", help="Host id or hostname.", show_default=False)]
PackageOption = Annotated[str | None, typer.Option("--package", help="Package name.", show_default=False)]
AdvisoryOption = Annotated[
    str | None, typer.Option("--advisory", help="Vulnerability id or alias (CVE-...).", show_default=False)
]
FixableOption = Annotated[bool, typer.Option("--fixable", help="Only findings with a fixed version.")]
StatusOption = Annotated[FindingStatus, typer.Option("--status", help="open, fixed or all.")]


def parse_severities(values: list[str] | None) -> tuple[str, ...]:
    """Severity names from comma-separated, repeatable options, checked and upper-cased."""
    from rampart.model import Severity

    names = [part.strip().upper() for value in values or () for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in Severity.__members__]
    if unknown:
        choices = ", ".join(s.name for s in reversed(Severity))
        raise UsageError(f"unknown severity {unknown[0]!r}; choose from {choices}")
    return tuple(dict.fromkeys(names))


def _query(
    severity: list[str] | None,
    host: str | None,
    tag: list[str] | None,
    package: str | None,
    advisory: str | None,
    fixable: bool,
    status: FindingStatus,
) -> FindingQuery:
    from rampart.client.api import FindingQuery

    tags = tuple(parse_tags(tag).items())
    if len(tags) > 1:
        raise UsageError("findings can be filtered by one tag at a time")
    return FindingQuery(parse_severities(severity), host, tags, package, advisory, fixable, status.value)


@app.command("list")
def list_command(
    server: ServerOption = None,
    token: TokenOption = None,
    severity: SeverityOption = None,
    host: HostOption = None,
    tag: TagOption = None,
    package: PackageOption = None,
    advisory: AdvisoryOption = None,
    fixable: FixableOption = False,
    status: StatusOption = FindingStatus.OPEN,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List findings, worst first (every page is fetched)."""
    query = _query(severity, host, tag, package, advisory, fixable, status)
    with open_client(server, token) as client:
        findings = client.findings(query)
    if wants_json(output):
        emit_json(findings)
        return
    from rampart.report.fleet_table import render_findings

    emit(render_findings(findings, width=width(), color=colour()))


@app.command("summary")
def summary_command(
    server: ServerOption = None,
    token: TokenOption = None,
    by: Annotated[
        SummaryBy, typer.Option("--by", help="fleet totals or one row per host.")
    ] = SummaryBy.FLEET,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Open findings counted per severity, for the fleet or per host."""
    from rampart.client.models import FleetSummary
    from rampart.report import fleet_table

    with open_client(server, token) as client:
        document: object = client.fleet_summary() if by is SummaryBy.FLEET else client.host_summaries()
    if wants_json(output):
        emit_json(document)
    elif isinstance(document, list):
        emit(fleet_table.render_host_summaries(document, width=width(), color=colour()))
    else:
        assert isinstance(document, FleetSummary)
        emit(fleet_table.render_fleet_summary(document, width=width(), color=colour()))


@app.command("export")
def export_command(
    export_format: Annotated[ExportFormat, typer.Option("--format", "-f", help="json, csv or sarif.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    severity: SeverityOption = None,
    host: HostOption = None,
    tag: TagOption = None,
    package: PackageOption = None,
    advisory: AdvisoryOption = None,
    fixable: FixableOption = False,
    status: StatusOption = FindingStatus.OPEN,
) -> None:
    """Export findings as JSON, CSV (spreadsheet-safe) or SARIF 2.1.0."""
    query = _query(severity, host, tag, package, advisory, fixable, status)
    with open_client(server, token) as client:
        findings = client.findings(query)
    text = render_export(findings, export_format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="")


def render_export(findings: list[Finding], export_format: ExportFormat) -> str:
    """The export text in the chosen format."""
    if export_format is ExportFormat.CSV:
        from rampart.report.findings_csv import render_findings_csv

        return render_findings_csv(findings)
    if export_format is ExportFormat.SARIF:
        from rampart.report.findings_sarif import render_findings_sarif

        return render_findings_sarif(findings)
    from rampart.client.models import to_json
    from rampart.report.json import ascii_json

    return ascii_json(to_json(findings)) + "\n"
