"""``rampart harden``: CIS-style hardening checks of a host, a root filesystem or an image; profiles, rules, fix.

Exit status of ``check``: 0, or 1 when a failing rule reaches ``--fail-on`` (a severity, or ``any``); errors in
rules count as failures with ``--strict``. Bad profiles, tailoring or targets exit 2 with one line.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli import harden_fleet
from rampart.cli.remote import OutputFormat, colour, emit, emit_json, note, wants_json, width

if TYPE_CHECKING:
    from rampart.harden.fixing import PlannedFix
    from rampart.harden.model import HardenReport, Rule
    from rampart.harden.profiles import Profile
    from rampart.harden.ruleset import RuleSet
    from rampart.harden.view import SystemView

app = typer.Typer(
    help="Hardening checks: CIS-style profiles for hosts, root filesystems and images.", no_args_is_help=True
)


class ReportFormat(enum.StrEnum):
    AUTO = "auto"
    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    HTML = "html"


TargetArgument = Annotated[
    str,
    typer.Argument(
        help="/ (this host, default), a root filesystem directory, or an image (archive, OCI layout, registry reference)."
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile id (rampart harden profiles).", show_default=False),
]
TailoringOption = Annotated[
    Path | None,
    typer.Option(
        "--tailoring",
        help="YAML tailoring: extends a profile, selects or drops rules, sets variables.",
        show_default=False,
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule file(s) to load (repeatable).", show_default=False),
]


@app.command("check")
def check_command(
    target: TargetArgument = "/",
    profile: ProfileOption = None,
    tailoring: TailoringOption = None,
    rules: RulesOption = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="auto: a table on a terminal, JSON when piped.")
    ] = ReportFormat.AUTO,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here instead of stdout.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a rule of this severity or worse fails (low, medium, high, critical, or any).",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Rules that could not be evaluated (error) count as failing for --fail-on."
        ),
    ] = False,
    show_passed: Annotated[
        bool, typer.Option("--show-passed/--hide-passed", help="Table: list passing rules too.")
    ] = True,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Image platform, e.g. linux/amd64.")
    ] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Registry over plain HTTP.")] = False,
) -> None:
    """Evaluate a profile's rules over the target and report each rule's status and evidence."""
    threshold = _threshold(fail_on)
    chosen = _profile(profile, tailoring, rules)
    with _opened(target, platform, insecure) as view:
        report = _evaluate(chosen, view)
    _write(report, output_format, output, show_passed)
    _exit(report, threshold, strict)


@app.command("profiles")
def profiles_command(
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.AUTO,
) -> None:
    """The shipped profiles: id, benchmark, rule count and title."""
    from rampart.harden.profiles import load_profile, shipped_profile_ids
    from rampart.harden.ruleset import load_rules

    ruleset = load_rules()
    rows = [load_profile(profile_id, ruleset) for profile_id in shipped_profile_ids()]
    if wants_json(output):
        emit_json(
            [
                {
                    "id": p.id,
                    "title": p.title,
                    "benchmark": p.benchmark,
                    "rules": len(p.rules),
                    "platforms": list(p.platforms),
                }
                for p in rows
            ]
        )
        return
    _table(
        ("profile", "benchmark", "rules", "title"),
        [(p.id, p.benchmark, str(len(p.rules)), p.title) for p in rows],
    )


@app.command("rules")
def rules_command(
    profile: ProfileOption = None,
    tailoring: TailoringOption = None,
    rules: RulesOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.AUTO,
) -> None:
    """The rules (of a profile, or all shipped ones): id, severity, benchmark ids, check type, title."""
    ruleset = _ruleset(rules)
    chosen = _profile(profile, tailoring, rules, ruleset) if profile or tailoring else None
    listed = list(chosen.rules) if chosen else list(ruleset.rules.values())
    if wants_json(output):
        emit_json([_rule_json(rule) for rule in listed])
        return
    _table(("rule", "severity", "cis", "check", "title"), [_rule_row(rule, chosen) for rule in listed])


@app.command("fix")
def fix_command(
    target: TargetArgument = "/",
    profile: ProfileOption = None,
    tailoring: TailoringOption = None,
    rules: RulesOption = None,
    only: Annotated[
        list[str] | None, typer.Option("--rule", help="Fix only this rule (repeatable).", show_default=False)
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the changes (without it, only show them).")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Where applied fixes are recorded (JSON lines; default /var/lib/rampart/harden/fixes.jsonl).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show what would bring failing rules into line; with --apply, change it and record what was done."""
    from rampart.harden.fixing import DEFAULT_RECORD, FixError, apply_fixes, plan_fixes
    from rampart.harden.view import IMAGE

    chosen = _profile(profile, tailoring, rules)
    with _opened(target, None, False) as view:
        if apply and view.kind == IMAGE:
            raise FixError(
                "fixes apply to a host or a root filesystem directory, not to an image: rebuild the image"
            )
        report = _evaluate(chosen, view)
        planned = [item for item in plan_fixes(report, chosen, view) if not only or item.rule in only]
        if not apply or not planned:
            _show_plan(planned)
            return
        done = apply_fixes(planned, view, getattr(view, "root", "/"), record or DEFAULT_RECORD)
        if not _show_after(done, chosen, view):
            raise typer.Exit(1)


def _show_plan(planned: list[PlannedFix]) -> None:
    from rampart.report.escape import safe_text

    if not planned:
        note("nothing to fix: no failing rule has an automatic fix")
        return
    for item in planned:
        emit(f"{safe_text(item.rule)}: {safe_text(item.title)}\n")
        for line in item.changes:
            emit(f"  {safe_text(line)}\n")
    note(f"{len(planned)} fix(es) planned; run again with --apply to make the changes")


def _show_after(done: list[tuple[PlannedFix, list[str]]], profile: Profile, view: SystemView) -> bool:
    """What each action changed and the rule's status now; False when some rule still does not pass."""
    from rampart.harden.context import Context
    from rampart.harden.engine import evaluate_rule
    from rampart.harden.model import Status
    from rampart.report.escape import safe_text

    by_id, context, all_pass = {rule.id: rule for rule in profile.rules}, Context(view), True
    for item, lines in done:
        rule = by_id[item.rule]
        emit(
            f"{safe_text(rule.id)}: {safe_text(rule.title)}\n"
            + "".join(f"  {safe_text(line)}\n" for line in lines)
        )
        now = evaluate_rule(rule, context.with_variables({**rule.variables, **profile.variables}))
        if now.status is Status.PASS:
            note(f"{rule.id}: fixed, now pass")
            continue
        all_pass = False
        why = now.reason or next(iter(now.evidence), "")
        note(f"{rule.id}: applied, but the rule is still {now.status}: {why}")
    return all_pass


def _ruleset(extra: list[Path] | None) -> RuleSet:
    from rampart.harden.ruleset import load_rules

    ruleset = load_rules(extra or ())
    for line in ruleset.errors:
        note(f"WARNING: rule not loaded: {line}")
    return ruleset


def _profile(
    profile: str | None, tailoring: Path | None, rules: list[Path] | None, ruleset: RuleSet | None = None
) -> Profile:
    from rampart.harden.profiles import load_profile

    return load_profile(profile, ruleset or _ruleset(rules), tailoring)


@contextmanager
def _opened(target: str, platform: str | None, insecure: bool) -> Iterator[SystemView]:
    from rampart.harden.targets import close_view, open_view

    view = open_view(target, platform=platform, insecure=insecure)
    try:
        yield view
    finally:
        close_view(view)


def _evaluate(profile: Profile, view: SystemView) -> HardenReport:
    from rampart.harden.engine import run_profile

    with _rule_progress(len(profile.rules)) as advance:
        report = run_profile(profile, view, advance)
    for line in report.warnings:
        note(f"WARNING: {line}")
    return report


@contextmanager
def _rule_progress(total: int) -> Iterator[Callable[[Rule], None] | None]:
    """A bar over the profile's rules on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda rule: bar.update(task, advance=1, description=rule.id)


def _write(report: HardenReport, output_format: ReportFormat, output: Path | None, show_passed: bool) -> None:
    text = _render(
        report, _resolved_format(output_format, output), show_passed, to_terminal=output is None and colour()
    )
    if output is None:
        emit(text)
    else:
        output.write_text(text, encoding="utf-8")
        note(f"report written to {output}")


def _resolved_format(output_format: ReportFormat, output: Path | None) -> ReportFormat:
    if output_format is not ReportFormat.AUTO:
        return output_format
    return ReportFormat.TABLE if output is None and sys.stdout.isatty() else ReportFormat.JSON


def _render(report: HardenReport, output_format: ReportFormat, show_passed: bool, to_terminal: bool) -> str:
    if output_format is ReportFormat.JSON:
        from rampart.report.harden_json import render_json

        return render_json(report)
    if output_format is ReportFormat.JUNIT:
        from rampart.report.harden_junit import render_junit

        return render_junit(report)
    if output_format is ReportFormat.SARIF:
        from rampart.report.harden_sarif import render_sarif

        return render_sarif(report)
    if output_format is ReportFormat.HTML:
        from rampart.report.harden_html import render_html

        return render_html(report)
    from rampart.report.harden_table import render_table

    return render_table(report, width=width(), color=to_terminal, show_passed=show_passed)


def _threshold(fail_on: str | None) -> int | None:
    from rampart.errors import UsageError
    from rampart.harden.model import Level

    if fail_on is None:
        return None
    if fail_on.lower() == "any":
        return int(Level.INFO)
    try:
        return int(Level.parse(fail_on))
    except KeyError:
        raise UsageError(f"--fail-on {fail_on!r}: expected any, low, medium, high or critical") from None


def _exit(report: HardenReport, threshold: int | None, strict: bool) -> None:
    from rampart.harden.model import Status

    failing = {Status.FAIL, Status.ERROR} if strict else {Status.FAIL}
    if threshold is not None and any(r.status in failing and r.severity >= threshold for r in report.results):
        raise typer.Exit(1)


def _rule_json(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": str(rule.severity),
        "section": rule.section,
        "cis": {name: list(ids) for name, ids in rule.cis.items()},
        "check": rule.check.type,
        "requires": sorted(rule.requires),
        "variables": dict(rule.variables),
        "fixable": rule.fix is not None,
        "references": list(rule.references),
    }


def _rule_row(rule: Rule, profile: Profile | None) -> tuple[str, ...]:
    ids = rule.cis.get(profile.benchmark, ()) if profile else [i for ids in rule.cis.values() for i in ids]
    return (rule.id, str(rule.severity), ",".join(ids), rule.check.type, rule.title)


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from rampart.report.escape import safe_text

    table = Table(*headers, show_lines=False)
    for row in rows:
        table.add_row(*(safe_text(cell) for cell in row))
    Console(width=width(), no_color=not colour(), highlight=False).print(table)


harden_fleet.register(app)  # the fleet's view: hosts, failing, history, request
