"""Terminal tables for what the server reports: hosts, packages, findings, summaries, users and tokens.

Pure: models and the current time in, text out (ANSI colour only when asked). Everything that came
from the server passes through ``safe_text`` and rich ``Text`` (never markup).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from rampart.client.models import (
    Finding,
    FleetSummary,
    Host,
    HostPackage,
    HostSummary,
    JoinTokenInfo,
    TokenInfo,
    UserInfo,
)
from rampart.model import Severity
from rampart.report.escape import safe_text
from rampart.report.table import SEVERITY_STYLES

STATUS_STYLES = {"online": "green", "offline": "", "stale": "bold yellow", "revoked": "dim"}
SEVERITIES = tuple(s.name for s in reversed(Severity))


def render(renderables: Iterable[RenderableType], *, width: int = 120, color: bool = False) -> str:
    """Renderables printed one after the other, ``width`` columns wide."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, force_terminal=color, color_system="standard" if color else None
    )
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def ago(then: datetime | None, now: datetime) -> str:
    """``3m ago``, ``5h ago``, ``2d ago``; ``never`` for no time; ``just now`` within a minute."""
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    return f"{_span(seconds)} ago" if seconds > 0 else f"in {_span(-seconds)}"


def until(then: datetime, now: datetime) -> str:
    """``in 3h`` or ``expired``."""
    seconds = int((then - now).total_seconds())
    return f"in {_span(seconds)}" if seconds >= 60 else ("expired" if seconds <= 0 else "in <1m")


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{safe_text(k)}={safe_text(v)}" for k, v in sorted(tags.items()))


def _table(*columns: str) -> Table:
    table = Table(header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _t(text: str | None, style: str = "") -> Text:
    return Text(safe_text(text or ""), style=style)


# --- hosts -------------------------------------------------------------------------------------


def os_text(host: Host) -> str:
    if host.os.pretty:
        return host.os.pretty
    return " ".join(part for part in (host.os.id, host.os.version) if part) or "unknown"


def status_text(host: Host) -> Text:
    """The status; a host that stopped reporting says so even without colour."""
    label = "stale (!)" if host.status == "stale" else host.status
    return _t(label, STATUS_STYLES.get(host.status, ""))


def hosts_table(hosts: Sequence[Host], now: datetime) -> Table:
    table = _table("Host", "Hostname", "OS", "Agent", "Last seen", "Tags", "Status")
    for host in sorted(hosts, key=lambda h: (h.hostname, h.id)):
        stale = host.status == "stale"
        table.add_row(
            _t(host.id),
            _t(host.hostname, "bold yellow" if stale else "bold"),
            _t(os_text(host)),
            _t(host.agent_version or "?"),
            _t(ago(host.last_seen_at, now), "yellow" if stale else ""),
            _t(tags_text(host.tags)),
            status_text(host),
        )
    return table


def render_hosts(hosts: Sequence[Host], now: datetime, *, width: int = 120, color: bool = False) -> str:
    """The host list, stale hosts highlighted, and a count line."""
    stale = sum(1 for h in hosts if h.status == "stale")
    footer = Text(f"{len(hosts)} hosts, {stale} stale", style="bold")
    return render([hosts_table(hosts, now), footer], width=width, color=color)


def render_host(host: Host, now: datetime, *, width: int = 120, color: bool = False) -> str:
    """One host, field by field."""
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in _host_fields(host, now):
        table.add_row(label, value)
    return render([table], width=width, color=color)


def _host_fields(host: Host, now: datetime) -> list[tuple[str, Text]]:
    def when(moment: datetime | None) -> Text:
        return _t(f"{moment:%Y-%m-%d %H:%M UTC} ({ago(moment, now)})" if moment else "never")

    return [
        ("host", _t(host.id)),
        ("hostname", _t(host.hostname)),
        ("os", _t(os_text(host))),
        ("agent", _t(host.agent_version or "?")),
        ("status", status_text(host)),
        ("connected", _t("yes" if host.connected else "no")),
        ("tags", _t(tags_text(host.tags))),
        ("enrolled", when(host.enrolled_at)),
        ("last seen", when(host.last_seen_at)),
        ("revoked", when(host.revoked_at) if host.revoked_at else _t("no")),
        ("packages", _t("?" if host.packages is None else str(host.packages))),
        ("open findings", _t("?" if host.open_findings is None else str(host.open_findings))),
    ]


def render_packages(packages: Sequence[HostPackage], *, width: int = 120, color: bool = False) -> str:
    table = _table("Ecosystem", "Package", "Version", "Source")
    for package in sorted(packages, key=lambda p: (p.ecosystem, p.name, p.version)):
        table.add_row(_t(package.ecosystem), _t(package.name), _t(package.version), _t(package.source_name))
    return render([table, Text(f"{len(packages)} packages", style="bold")], width=width, color=color)


# --- findings ----------------------------------------------------------------------------------


def finding_order(finding: Finding) -> tuple[int, str, str, str, str]:
    """Worst first, then by host, package and vulnerability."""
    return (-finding.severity, finding.hostname, finding.package, finding.version, finding.vulnerability_id)


def render_findings(findings: Sequence[Finding], *, width: int = 120, color: bool = False) -> str:
    """Findings worst first, with a total per severity."""
    table = _table("Host", "Package", "Installed", "Vulnerability", "Severity", "Fixed in", "Status")
    for finding in sorted(findings, key=finding_order):
        table.add_row(*_finding_cells(finding))
    return render([table, _findings_total(findings)], width=width, color=color)


def _finding_cells(finding: Finding) -> tuple[Text, ...]:
    fixed = ", ".join(finding.fixed_versions)
    return (
        _t(finding.hostname, "bold"),
        _t(finding.package),
        _t(finding.version),
        _t(finding.vulnerability_id),
        Text(finding.severity.name, style=SEVERITY_STYLES[finding.severity]),
        _t(fixed or "unfixed", "green" if fixed else "dim"),
        _t(finding.status),
    )


def _findings_total(findings: Sequence[Finding]) -> Text:
    counts = {name: 0 for name in SEVERITIES}
    for finding in findings:
        counts[finding.severity.name] += 1
    listed = ", ".join(f"{name}: {count}" for name, count in counts.items())
    fixable = sum(1 for f in findings if f.fixed_versions)
    return Text(f"Total: {len(findings)} ({listed}); {fixable} fixable", style="bold")


def _counts_cells(counts: Mapping[str, int]) -> list[Text]:
    return [
        Text(str(counts.get(name, 0)), style=SEVERITY_STYLES[Severity[name]] if counts.get(name) else "dim")
        for name in SEVERITIES
    ]


def render_fleet_summary(summary: FleetSummary, *, width: int = 120, color: bool = False) -> str:
    """Open findings by severity: one row for the hosts, one for the registry images."""
    table = _table("", "Count", *SEVERITIES, "Fixable")
    table.add_row(
        Text("hosts", style="bold"),
        Text(str(summary.hosts)),
        *_counts_cells(summary.open),
        Text(str(summary.fixable)),
    )
    table.add_row(
        Text("images", style="bold"),
        Text(str(summary.images)),
        *_counts_cells(summary.images_open),
        Text(str(summary.images_fixable)),
    )
    return render([table], width=width, color=color)


def render_host_summaries(rows: Sequence[HostSummary], *, width: int = 120, color: bool = False) -> str:
    table = _table("Host", "Hostname", *SEVERITIES, "Fixable")
    ordered = sorted(rows, key=lambda r: (*(-r.open.get(n, 0) for n in SEVERITIES), r.hostname))
    for row in ordered:
        table.add_row(
            _t(row.host_id), _t(row.hostname, "bold"), *_counts_cells(row.open), Text(str(row.fixable))
        )
    return render([table], width=width, color=color)


# --- users and tokens --------------------------------------------------------------------------


def render_users(users: Sequence[UserInfo], *, width: int = 120, color: bool = False) -> str:
    table = _table("User", "Roles", "Tags", "Disabled", "Created")
    for user in sorted(users, key=lambda u: u.name):
        created = f"{user.created_at:%Y-%m-%d}" if user.created_at else ""
        table.add_row(
            _t(user.name, "bold"),
            _t(", ".join(user.roles)),
            _t(tags_text(user.tags)),
            _t("yes" if user.disabled else "no", "red" if user.disabled else ""),
            _t(created),
        )
    return render([table], width=width, color=color)


def render_tokens(
    tokens: Sequence[TokenInfo], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    table = _table("Id", "Name", "Scopes", "Expires", "Last used", "State")
    for token in sorted(tokens, key=lambda t: (t.expires_at, t.id)):
        state = "revoked" if token.revoked_at else ("expired" if token.expires_at <= now else "active")
        table.add_row(
            _t(token.id),
            _t(token.name, "bold"),
            _t(", ".join(token.scopes)),
            _t(until(token.expires_at, now)),
            _t(ago(token.last_used_at, now)),
            _t(state, "green" if state == "active" else "dim"),
        )
    return render([table], width=width, color=color)


def render_join_tokens(
    tokens: Sequence[JoinTokenInfo], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    table = _table("Id", "Tags", "Expires", "Created by", "Used")
    for token in sorted(tokens, key=lambda t: t.expires_at):
        used = f"{ago(token.used_at, now)} by {token.host_id or '?'}" if token.used_at else "no"
        table.add_row(
            _t(token.id),
            _t(tags_text(token.tags)),
            _t(until(token.expires_at, now)),
            _t(token.created_by or "?"),
            _t(used),
        )
    return render([table], width=width, color=color)
