"""Fleet findings (of hosts or of registry images) as CSV (RFC 4180: CRLF line ends, quoting where needed), safe to open in a spreadsheet.

Pure: findings in, text out. A cell that starts with ``= + - @``, a tab or a carriage return gets a
leading apostrophe, so a hostile package name or summary is never run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime

from rampart.client.models import Finding, ImageFinding
from rampart.report.escape import safe_text

COLUMNS = (
    "host_id",
    "hostname",
    "ecosystem",
    "package",
    "version",
    "vulnerability_id",
    "aliases",
    "severity",
    "fixed_versions",
    "status",
    "first_seen_at",
    "last_seen_at",
    "fixed_at",
    "summary",
)
IMAGE_COLUMNS = (
    "image_id",
    "reference",
    "ecosystem",
    "package",
    "version",
    "layer",
    "vulnerability_id",
    "aliases",
    "severity",
    "fixed_versions",
    "status",
    "first_seen_at",
    "last_seen_at",
    "fixed_at",
    "summary",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAK = re.compile(r"(\r\n|\n|\r)")


def safe_cell(value: str) -> str:
    """The cell text with control characters escaped (line breaks kept, quoted by the writer), and a
    leading ``'`` when a spreadsheet could read it as a formula."""
    parts = _LINE_BREAK.split(value)
    text = "".join(part if index % 2 else safe_text(part) for index, part in enumerate(parts))
    return "'" + text if value.startswith(_FORMULA_START) else text


def render_findings_csv(findings: Sequence[Finding]) -> str:
    """A header row and one row per finding, in the order given."""
    return _csv(COLUMNS, [_row(finding) for finding in findings])


def render_image_findings_csv(findings: Sequence[ImageFinding]) -> str:
    """A header row and one row per image finding, in the order given."""
    return _csv(IMAGE_COLUMNS, [_image_row(finding) for finding in findings])


def _csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def _row(finding: Finding) -> list[str]:
    package = [finding.ecosystem, finding.package, finding.version]
    return [finding.host_id, finding.hostname, *package, *_advisory_cells(finding)]


def _image_row(finding: ImageFinding) -> list[str]:
    package = [finding.ecosystem, finding.package, finding.version, finding.layer]
    return [finding.image_id, finding.reference, *package, *_advisory_cells(finding)]


def _advisory_cells(finding: Finding | ImageFinding) -> list[str]:
    """The cells both kinds of finding share, from the vulnerability id to the summary."""
    return [
        finding.vulnerability_id,
        " ".join(finding.aliases),
        finding.severity.name,
        " ".join(finding.fixed_versions),
        finding.status,
        _time(finding.first_seen_at),
        _time(finding.last_seen_at),
        _time(finding.fixed_at),
        finding.summary,
    ]


def _time(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment else ""
