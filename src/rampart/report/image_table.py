"""Terminal tables for the server's registry scanning: registries, poll results, images, their packages
and findings.

Pure: models and the current time in, text out (ANSI colour only when asked). Everything that came from
the server passes through ``safe_text`` and rich ``Text`` (never markup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text

from rampart.client.models import HostOs, Image, ImageFinding, ImagePackage, Registry, RegistryScan
from rampart.model import Severity
from rampart.report.escape import safe_text
from rampart.report.fleet_table import SEVERITIES, ago, render
from rampart.report.table import SEVERITY_STYLES

SHORT_DIGEST = 12


def short_digest(digest: str) -> str:
    """The first 12 hex digits of a ``sha256:...`` digest (as ``docker images`` shows them)."""
    return digest.partition(":")[2][:SHORT_DIGEST] if ":" in digest else digest[:SHORT_DIGEST]


def os_label(os: HostOs) -> str:
    if os.pretty:
        return os.pretty
    return " ".join(part for part in (os.id, os.version) if part) or "unknown"


def open_text(counts: Mapping[str, int]) -> Text:
    """``1 CRITICAL, 2 HIGH`` in severity colours, worst first; ``none`` when nothing is open."""
    text = Text()
    for name in SEVERITIES:
        if counts.get(name):
            if text:
                text.append(", ")
            text.append(f"{counts[name]} {name}", style=SEVERITY_STYLES[Severity[name]])
    return text or Text("none", style="dim")


def _t(text: str | None, style: str = "") -> Text:
    return Text(safe_text(text or ""), style=style)


def _table(*columns: str) -> Table:
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _fields(rows: Sequence[tuple[str, Text]]) -> Table:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    return table


def _when(moment: datetime | None, now: datetime) -> Text:
    return _t(f"{moment:%Y-%m-%d %H:%M UTC} ({ago(moment, now)})" if moment else "never")


# --- registries --------------------------------------------------------------------------------


def render_registries(
    registries: Sequence[Registry], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    """One row per repository (a registry without any gets one row of its own), and a count line."""
    table = _table("Registry", "Host", "Platform", "Repository", "Tags", "Images", "Polled", "Error")
    for registry in sorted(registries, key=lambda r: r.name):
        host = _t(registry.host + (" (plain HTTP)" if registry.insecure else ""))
        platform = _t(registry.platform or "default")
        if not registry.repositories:
            table.add_row(_t(registry.name, "bold"), host, platform, _t("none yet", "dim"), *[_t("")] * 4)
        for repository in sorted(registry.repositories, key=lambda r: r.name):
            table.add_row(
                _t(registry.name, "bold"),
                host,
                platform,
                _t(repository.name),
                _t(", ".join(repository.tags)),
                _t(str(repository.images)),
                _t(ago(repository.polled_at, now)),
                _t(repository.error, "red"),
            )
    repositories = sum(len(r.repositories) for r in registries)
    footer = Text(f"{len(registries)} registries, {repositories} repositories", style="bold")
    return render([table, footer], width=width, color=color)


def render_registry_scan(scan: RegistryScan, *, width: int = 120, color: bool = False) -> str:
    """What the poll did per repository, then every error on a line of its own."""
    table = _table("Repository", "Tags", "Scanned", "Unchanged", "Removed", "Failed")
    errors: list[Text] = []
    for result in scan.repositories:
        name = f"{result.registry}/{result.repository}"
        table.add_row(
            _t(name, "bold"),
            *(_t(str(n)) for n in (result.tags, result.scanned, result.unchanged, result.removed)),
            _t(str(result.failed), "bold red" if result.failed else ""),
        )
        errors += [_t(f"error: {name}: {line}", "red") for line in result.errors]
    failed = sum(1 for result in scan.repositories if not result.ok)
    footer = f"{len(scan.repositories)} repositories polled, {failed} with failures"
    return render([table, *errors, Text(footer, style="bold")], width=width, color=color)


# --- images ------------------------------------------------------------------------------------


def render_images(images: Sequence[Image], now: datetime, *, width: int = 120, color: bool = False) -> str:
    """Images by reference: short digest, OS, package count, open findings by severity, scan time, error."""
    table = _table("Reference", "Digest", "OS", "Packages", "Open findings", "Scanned", "Error")
    for image in sorted(images, key=lambda i: (i.reference, i.id)):
        table.add_row(
            _t(image.reference, "bold"),
            _t(short_digest(image.digest)),
            _t(os_label(image.os)),
            _t(str(image.packages)),
            open_text(image.open),
            _t(ago(image.scanned_at, now)),
            _t(image.error, "red"),
        )
    failed = sum(1 for image in images if image.error)
    footer = Text(f"{len(images)} images, {failed} with errors", style="bold")
    return render([table, footer], width=width, color=color)


def render_image(
    image: Image,
    packages: Sequence[ImagePackage],
    now: datetime,
    *,
    width: int = 120,
    color: bool = False,
) -> str:
    """One image field by field, then its packages with the layer each came from."""
    rows = [
        ("image", _t(image.id)),
        ("reference", _t(image.reference)),
        ("registry", _t(image.registry)),
        ("repository", _t(image.repository)),
        ("tag", _t(image.tag)),
        ("digest", _t(image.digest)),
        ("os", _t(os_label(image.os))),
        ("layers", _t(" ".join(short_digest(layer) for layer in image.layers) or "none")),
        ("first seen", _when(image.first_seen_at, now)),
        ("scanned", _when(image.scanned_at, now)),
        ("packages", _t(str(image.packages))),
        ("open findings", open_text(image.open)),
        ("fixable", _t(str(image.fixable))),
    ]
    rows += [("note", _t(note)) for note in image.notes]
    if image.error:
        rows.append(("error", _t(image.error, "red")))
    table = _table("Ecosystem", "Package", "Version", "Source", "Layer", "Location")
    for package in sorted(packages, key=lambda p: (p.ecosystem, p.name, p.version, p.location)):
        table.add_row(
            _t(package.ecosystem),
            _t(package.name, "bold"),
            _t(package.version),
            _t(package.source_name),
            _t(short_digest(package.layer)),
            _t(package.location),
        )
    footer = Text(f"{len(packages)} packages", style="bold")
    return render([_fields(rows), table, footer], width=width, color=color)


def image_finding_order(finding: ImageFinding) -> tuple[int, str, str, str, str]:
    """Worst first, then by image, package and vulnerability."""
    return (-finding.severity, finding.reference, finding.package, finding.version, finding.vulnerability_id)


def render_image_findings(findings: Sequence[ImageFinding], *, width: int = 120, color: bool = False) -> str:
    """Image findings worst first, with a total per severity."""
    table = _table("Image", "Package", "Version", "Layer", "Vulnerability", "Severity", "Fixed in", "Status")
    for finding in sorted(findings, key=image_finding_order):
        fixed = ", ".join(finding.fixed_versions)
        table.add_row(
            _t(finding.reference, "bold"),
            _t(finding.package),
            _t(finding.version),
            _t(short_digest(finding.layer)),
            _t(finding.vulnerability_id),
            Text(finding.severity.name, style=SEVERITY_STYLES[finding.severity]),
            _t(fixed or "unfixed", "green" if fixed else "dim"),
            _t(finding.status),
        )
    return render([table, _total(findings)], width=width, color=color)


def _total(findings: Sequence[ImageFinding]) -> Text:
    counts = {name: 0 for name in SEVERITIES}
    for finding in findings:
        counts[finding.severity.name] += 1
    listed = ", ".join(f"{name}: {count}" for name, count in counts.items())
    fixable = sum(1 for f in findings if f.fixed_versions)
    return Text(f"Total: {len(findings)} ({listed}); {fixable} fixable", style="bold")
