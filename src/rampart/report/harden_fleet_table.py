"""Terminal tables for the fleet's hardening: per-host scores, fleet-wide failing rules, a host's history.

Pure: models and the current time in, text out. Everything a host reported (rule titles, evidence, errors)
passes through ``safe_text`` and rich ``Text`` (never markup), so nothing an agent sent can style or move text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from rampart.client.models import HardenHost, HardenRuleCount, HardenRuleStatus, HardenRun
from rampart.report.escape import safe_text
from rampart.report.fleet_table import _table, ago, render

SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "", "info": "dim"}
STATUS_STYLES = {"pass": "green", "fail": "bold red", "error": "bold yellow", "manual": "", "na": "dim"}


def _t(text: str | None, style: str = "") -> Text:
    return Text(safe_text(text or ""), style=style)


def score_style(score: float) -> str:
    return "green" if score >= 90 else "yellow" if score >= 70 else "bold red"


def _score(run: HardenRun | None) -> Text:
    return _t("-") if run is None else _t(f"{run.score:.1f}%", score_style(run.score))


def _counts(run: HardenRun | None) -> Text:
    if run is None:
        return _t("")
    text = f"{run.passed} pass, {run.failed} fail, {run.na} na"
    text += f", {run.errors} error" if run.errors else ""
    text += f", {run.manual} manual" if run.manual else ""
    return _t(text)


def _last(host: HardenHost, now: datetime) -> Text:
    if host.last_error is not None:
        return _t(f"FAILED {ago(host.last_error.started, now)}: {host.last_error.error}", "bold red")
    return _t(ago(host.run.started, now) if host.run else "no run yet")


def render_harden_hosts(
    hosts: Sequence[HardenHost], now: datetime, *, width: int = 120, color: bool = False
) -> str:
    """One row per host and profile: score, counts by status, when it last ran (or why it could not)."""
    table = _table("Hostname", "Host", "Profile", "Score", "Results", "Last run")
    for host in hosts:
        table.add_row(
            _t(host.hostname, "bold"),
            _t(host.host_id),
            _t(host.profile or "-"),
            _score(host.run),
            _counts(host.run),
            _last(host, now),
        )
    names = {h.host_id for h in hosts}
    scored = [h.run.score for h in hosts if h.run is not None]
    average = f", average score {sum(scored) / len(scored):.1f}%" if scored else ""
    failed = sum(1 for h in hosts if h.last_error is not None)
    footer = Text(f"{len(names)} hosts, {len(scored)} scored{average}, {failed} failed runs", style="bold")
    return render([table, footer], width=width, color=color)


def render_harden_rules(
    rules: Sequence[HardenRuleCount], status: str = "fail", *, width: int = 120, color: bool = False
) -> str:
    """Rules in ``status`` across the fleet (the server's order: worst severity, most hosts first)."""
    table = _table("Rule", "CIS", "Severity", "Hosts", "Title", "Some hosts")
    for rule in rules:
        shown = ", ".join(rule.hostnames[:5]) + (", ..." if rule.hosts > 5 else "")
        table.add_row(
            _t(rule.rule, "bold"),
            _t(", ".join(rule.cis)),
            _t(rule.severity, SEVERITY_STYLES.get(rule.severity, "")),
            _t(str(rule.hosts)),
            _t(rule.title),
            _t(shown),
        )
    footer = Text(f"{len(rules)} rules with status {safe_text(status)}", style="bold")
    return render([table, footer], width=width, color=color)


def render_harden_history(
    runs: Sequence[HardenRun],
    changes: Sequence[HardenRuleStatus],
    now: datetime,
    *,
    width: int = 120,
    color: bool = False,
) -> str:
    """A host's runs (newest first) and the rules whose status changed, most recent change first."""
    table = _table("Started", "Profile", "Score", "Results", "Took", "Error")
    for run in runs:
        table.add_row(
            _t(ago(run.started, now)),
            _t(run.profile),
            _t("-") if run.error else _score(run),
            _t("") if run.error else _counts(run),
            _t(f"{run.duration_seconds:.1f} s"),
            _t(run.error, "bold red"),
        )
    moved = _table("Changed", "Profile", "Rule", "From", "To", "Title")
    for change in changes:
        moved.add_row(
            _t(ago(change.changed_at, now)),
            _t(change.profile),
            _t(change.rule, "bold"),
            _t(change.previous_status, STATUS_STYLES.get(change.previous_status or "", "")),
            _t(change.status, STATUS_STYLES.get(change.status, "")),
            _t(change.title),
        )
    footer = Text(f"{len(runs)} runs, {len(changes)} rules changed status", style="bold")
    return render([table, moved, footer] if changes else [table, footer], width=width, color=color)
