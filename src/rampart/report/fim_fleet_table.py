"""Terminal tables for the fleet's file integrity: per-host check status and hosts' changed paths.

Pure: models and the current time in, text out. Paths arrive escaped from the server and pass through
``safe_text`` and rich ``Text`` again (never markup), so nothing a host reported can style or move text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from rampart.client.models import FimChange, FimHost
from rampart.report.escape import safe_text
from rampart.report.fleet_table import _table, ago, render

CAUSES = ("unexplained", "package-modified", "package", "generated")
CAUSE_STYLES = {
    "unexplained": "bold red",
    "package-modified": "bold yellow",
    "package": "",
    "generated": "dim",
}
REVIEW = frozenset({"unexplained", "package-modified"})


def _t(text: str | None, style: str = "") -> Text:
    return Text(safe_text(text or ""), style=style)


def _open_text(host: FimHost) -> Text:
    parts = [
        f"{host.open[c]} {c}" for c in (*CAUSES, *sorted(set(host.open) - set(CAUSES))) if host.open.get(c)
    ]
    needs_review = any(host.open.get(c) for c in REVIEW)
    return _t(", ".join(parts) or "none", "bold red" if needs_review else "")


def _check_text(host: FimHost, now: datetime) -> Text:
    if host.refused:
        return _t(f"REFUSED: {host.refused}", "bold red")
    return _t(ago(host.checked_at, now) if host.checked_at else "no check yet")


def render_fim_hosts(
    hosts: Sequence[FimHost], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    """One row per host: last check (or the refusal), files covered, unreadable, open by cause, accepted."""
    table = _table("Host", "Hostname", "Last check", "Files", "Unreadable", "Open changes", "Accepted")
    for host in sorted(hosts, key=lambda h: (h.hostname, h.host_id)):
        table.add_row(
            _t(host.host_id),
            _t(host.hostname, "bold"),
            _check_text(host, now),
            _t(str(host.entries)),
            _t(str(host.unreadable), "yellow" if host.unreadable else ""),
            _open_text(host),
            _t(str(host.accepted)),
        )
    refused = sum(1 for h in hosts if h.refused)
    review = sum(1 for h in hosts if any(h.open.get(c) for c in REVIEW))
    footer = Text(f"{len(hosts)} hosts, {review} with changes to review, {refused} refused", style="bold")
    return render([table, footer], width=width, color=color)


def _what(change: FimChange) -> Text:
    shown = ", ".join(f"{a.name} {a.before} -> {a.after}" for a in change.attributes[:4])
    more = f" (+{len(change.attributes) - 4})" if len(change.attributes) > 4 else ""
    return _t(f"{change.change}: {shown}{more}" if shown else change.change)


def _why(change: FimChange) -> Text:
    text = change.cause + (f" ({change.package})" if change.package else "")
    return _t(text + (f": {change.note}" if change.note else ""), CAUSE_STYLES.get(change.cause, ""))


def render_fim_changes(
    changes: Sequence[FimChange], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    """The changes in the server's order (review first), with a count line."""
    table = _table("Hostname", "Path", "Change", "Cause", "Status", "Last seen")
    for change in changes:
        status = change.status
        if change.status == "accepted" and change.accepted_by:
            status += f" by {change.accepted_by}"
        table.add_row(
            _t(change.hostname, "bold"),
            _t(change.path),
            _what(change),
            _why(change),
            _t(status),
            _t(ago(change.last_seen_at, now)),
        )
    review = sum(1 for c in changes if c.cause in REVIEW and c.status == "open")
    footer = Text(f"{len(changes)} changes, {review} open for review", style="bold")
    return render([table, footer], width=width, color=color)
