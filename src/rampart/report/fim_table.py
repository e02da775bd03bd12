"""A check as a terminal table: one row per listed change, what changed, why; then the summary line.

Pure: result in, text out (ANSI colour only when asked). Names, link targets and values pass through
``unambiguous_text`` and rich ``Text`` (never markup), so a name cannot hide or forge a line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rampart.fim.model import Attr, AttrChange, Cause, Change, CheckResult
from rampart.fim.outcome import Summary, summarise
from rampart.report.escape import shown_bytes, unambiguous_text
from rampart.report.fleet_table import render

KIND_STYLES = {"added": "green", "removed": "red", "changed": "yellow"}
CAUSE_STYLES = {
    Cause.UNEXPLAINED: "bold red",
    Cause.PACKAGE_MODIFIED: "bold red",
    Cause.PACKAGE: "dim",
    Cause.GENERATED: "dim",
}
MAX_VALUE = 40
HASH_SHOWN = 17


def render_fim_table(
    result: CheckResult, shown: Sequence[Change], *, width: int = 120, color: bool = False
) -> str:
    """The header, the table of ``shown`` changes, unreadable paths, and the summary."""
    return render(_sections(result, shown), width=width, color=color)


def _sections(result: CheckResult, shown: Sequence[Change]) -> Iterator[RenderableType]:
    created = result.baseline_created or "unknown"
    yield Text(f"checked {result.entries} paths ({result.hashed} hashed) against the baseline of {created}")
    if shown:
        yield _table(shown)
    for path, error in result.errors:
        yield Text(f"unreadable: {shown_bytes(path)}: {unambiguous_text(error)}", style="yellow")
    for note in result.notes:
        yield Text(unambiguous_text(note), style="yellow")
    yield _summary_line(summarise(result, shown))


def _table(shown: Sequence[Change]) -> Table:
    table = Table(show_edge=False, pad_edge=False, expand=False)
    for column in ("Change", "Path", "What changed", "Cause"):
        table.add_column(column, overflow="fold")
    for change in shown:
        table.add_row(
            Text(change.kind.value, style=KIND_STYLES[change.kind.value]),
            Text(shown_bytes(change.path)),
            Text("; ".join(_attr_text(a) for a in change.attrs)),
            Text(cause_text(change), style=CAUSE_STYLES[change.cause]),
        )
    return table


def _attr_text(change: AttrChange) -> str:
    room = HASH_SHOWN if change.attr is Attr.HASH else MAX_VALUE
    return f"{change.attr.value} {_short(change.before, room)} -> {_short(change.after, room)}"


def _short(value: str, room: int) -> str:
    text = unambiguous_text(value)
    return text if len(text) <= room else text[: room - 1] + "…"


def cause_text(change: Change) -> str:
    """Why a change happened, in words."""
    package = unambiguous_text(change.package or "")
    note = f": {unambiguous_text(change.note)}" if change.note else ""
    if change.cause is Cause.PACKAGE:
        return f"package {package}{note}" if package else f"package manager{note}"
    if change.cause is Cause.PACKAGE_MODIFIED:
        return f"MODIFIED outside the package manager ({package}){note}"
    if change.cause is Cause.GENERATED:
        return f"generated{note}"
    return f"unexplained (file of {package}){note}" if package else f"unexplained{note}"


def _summary_line(summary: Summary) -> Text:
    kinds = ", ".join(f"{n} {kind}" for kind, n in summary.by_kind.items())
    causes = ", ".join(f"{n} {cause}" for cause, n in summary.by_cause.items() if n)
    text = f"{summary.total} changes: {kinds}" + (f" ({causes})" if causes else "")
    if summary.hidden:
        text += f"; {summary.hidden} explained changes not listed"
    if summary.unreadable:
        text += f"; {summary.unreadable} paths unreadable"
    return Text(text, style="bold")
