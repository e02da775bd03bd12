"""A hardening run as a terminal table: one table per section with its score, evidence under failing rows,
then the summary line.

Pure: report in, text out (ANSI colour only when asked). Evidence, reasons, the target and warnings came from
the checked system and pass through ``unambiguous_text`` and rich ``Text`` (never markup), so they cannot move
the cursor, reorder text or forge a line. The helpers here (sections, counts, scores) are shared by the other
harden reporters so every format groups and counts alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rampart.harden.model import HardenReport, Level, RuleResult, Status
from rampart.report.escape import safe_text, unambiguous_text
from rampart.report.fleet_table import render

STATUS_STYLES = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.NA: "dim",
    Status.ERROR: "bold magenta",
    Status.MANUAL: "cyan",
}
LEVEL_STYLES = {
    Level.CRITICAL: "bold white on red",
    Level.HIGH: "bold red",
    Level.MEDIUM: "yellow",
    Level.LOW: "cyan",
    Level.INFO: "dim",
}
MAX_EVIDENCE = 5
MAX_LINE = 300


def shown(text: str) -> str:
    """Text from the checked system as one printable line: unsafe characters (and backslashes) escaped."""
    return unambiguous_text(text)


def evidence_excerpt(result: RuleResult, limit: int = MAX_EVIDENCE) -> list[str]:
    """The first ``limit`` evidence lines, escaped and cut to ``MAX_LINE``, and a note of how many were left out."""
    lines = [_cut(shown(line)) for line in result.evidence[:limit]]
    if len(result.evidence) > limit:
        lines.append(f"… and {plural(len(result.evidence) - limit, 'more evidence line')}")
    return lines


def plural(count: int, noun: str) -> str:
    """``1 more evidence line``, ``2 more evidence lines``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def by_section(results: Sequence[RuleResult]) -> dict[str, list[RuleResult]]:
    """Results grouped by section, sections in the order they first appear (the profile's order)."""
    sections: dict[str, list[RuleResult]] = {}
    for result in results:
        sections.setdefault(result.section, []).append(result)
    return sections


def counts(results: Sequence[RuleResult]) -> dict[str, int]:
    """How many results have each status (every status named, in `Status` order), and the total."""
    tally = {status.value: 0 for status in Status}
    for result in results:
        tally[result.status.value] += 1
    return {**tally, "total": len(results)}


def score(results: Sequence[RuleResult]) -> float | None:
    """Passed as a percentage of passed and failed (as `HardenReport.score`); None when none passed or failed."""
    tally = counts(results)
    decided = tally["pass"] + tally["fail"]
    return 100.0 * tally["pass"] / decided if decided else None


def score_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def counts_text(tally: dict[str, int]) -> str:
    """``3 pass, 1 fail, 0 na, 0 error, 2 manual``."""
    return ", ".join(f"{tally[status.value]} {status.value}" for status in Status)


def render_table(
    report: HardenReport, *, width: int = 120, color: bool = False, show_passed: bool = True
) -> str:
    """The header, one table per section (passing rows left out unless ``show_passed``), and the summary."""
    return render(_renderables(report, show_passed), width=width, color=color)


def _renderables(report: HardenReport, show_passed: bool) -> Iterator[RenderableType]:
    yield _header(report)
    for warning in report.warnings:
        yield Text(f"warning: {shown(warning)}", style="yellow")
    for section, results in by_section(report.results).items():
        rows = [r for r in results if show_passed or r.status is not Status.PASS]
        yield _section_title(section, results)
        if rows:
            yield _table(rows)
    yield _summary_line(report, show_passed)


def _header(report: HardenReport) -> Text:
    text = Text(f"{shown(report.target)} ({safe_text(report.target_kind)})", style="bold")
    text.append(f"  profile {safe_text(report.profile)}: {safe_text(report.profile_title)}")
    text.append(f"  benchmark {safe_text(report.benchmark)}")
    text.append(f"\nstarted {safe_text(report.started)}, took {report.duration_seconds:.2f}s")
    return text


def _section_title(section: str, results: Sequence[RuleResult]) -> Text:
    text = Text(f"\n{safe_text(section)}", style="bold underline")
    text.append(f"  score {score_text(score(results))} ({counts_text(counts(results))})", style="bold")
    return text


def _table(rows: Sequence[RuleResult]) -> Table:
    table = Table(show_edge=False, pad_edge=False, expand=False, header_style="bold")
    for column in ("Status", "Rule", "CIS", "Severity", "Title"):
        table.add_column(column, overflow="fold", no_wrap=column == "Status")
    for result in rows:
        table.add_row(
            Text(result.status.value.upper(), style=STATUS_STYLES[result.status]),
            Text(safe_text(result.rule)),
            Text(safe_text(", ".join(result.cis))),
            Text(str(result.severity), style=LEVEL_STYLES[result.severity]),
            _title_cell(result),
        )
    return table


def _title_cell(result: RuleResult) -> Text:
    """The title; under a failure its first evidence lines, under na/error/manual the reason."""
    text = Text(safe_text(result.title))
    if result.reason and result.status is not Status.PASS:
        text.append(f"\n{_cut(shown(result.reason))}", style="italic")
    if result.status in (Status.FAIL, Status.ERROR):
        for line in evidence_excerpt(result):
            text.append(f"\n  {line}", style="dim")
    return text


def _summary_line(report: HardenReport, show_passed: bool) -> Text:
    tally = counts(report.results)
    text = f"{tally['total']} rules: {counts_text(tally)}; score {report.score:.1f}%"
    if not show_passed and tally["pass"]:
        text += f"; {tally['pass']} passing rules not listed"
    return Text(text, style="bold")
