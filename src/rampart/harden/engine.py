"""Evaluating rules: requirements, preconditions, variable substitution, the ``all``/``any`` combinators, and
turning whatever a check raises into an ``error`` result with one line, so one bad rule never stops a run."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from rampart.errors import RampartError
from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.model import CheckSpec, HardenReport, Outcome, Rule, RuleResult, Status
from rampart.harden.profiles import Profile
from rampart.harden.ruleset import spec_of
from rampart.harden.view import SystemView

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REQUIREMENT_REASONS = {
    "kernel": "the target has no kernel of its own (a container, or a container image): the host's settings decide",
    "systemd": "the target does not run systemd",
    "runtime": "needs a running system; the target is offline",
    "image": "applies to container images only",
}


class UnknownVariable(RampartError):
    """A rule names a variable that neither the rule, the profile nor the tailoring defines."""


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """``value`` with ``${name}`` replaced: a whole-string reference keeps the variable's own type."""
    if isinstance(value, str):
        return _substitute_text(value, variables)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def _substitute_text(text: str, variables: Mapping[str, Any]) -> Any:
    whole = _VARIABLE.fullmatch(text)
    if whole:
        return _lookup(whole.group(1), variables)
    return _VARIABLE.sub(lambda match: str(_lookup(match.group(1), variables)), text)


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise UnknownVariable(f"unknown variable ${{{name}}}")
    return variables[name]


def evaluate_spec(spec: CheckSpec, context: Context) -> Outcome:
    """One check (or combinator) evaluated; parameters are substituted first."""
    if spec.type in COMBINATORS:
        parts = [evaluate_spec(spec_of(item), context) for item in spec.params.get("checks", ())]
        return COMBINATORS[spec.type](parts)
    return CHECKS[spec.type].run(substitute(dict(spec.params), context.variables), context)


def _evidence(parts: Sequence[Outcome]) -> tuple[str, ...]:
    return tuple(line for part in parts for line in part.evidence)


def _reasons(parts: Sequence[Outcome], status: Status) -> str:
    reasons = (part.reason for part in parts if part.status is status and part.reason)
    return "; ".join(dict.fromkeys(reasons))


def combine_all(parts: Sequence[Outcome]) -> Outcome:
    """Every part must pass: any fail fails; else any error errs; parts that do not apply are left out."""
    statuses = {part.status for part in parts}
    for status in (Status.FAIL, Status.ERROR, Status.MANUAL):
        if status in statuses:
            return Outcome(status, _evidence(parts), _reasons(parts, status))
    if statuses <= {Status.NA}:
        return Outcome(Status.NA, _evidence(parts), _reasons(parts, Status.NA))
    return Outcome(Status.PASS, _evidence(parts))


def combine_any(parts: Sequence[Outcome]) -> Outcome:
    """One passing part is enough; otherwise the worst of the rest."""
    passing = [part for part in parts if part.status is Status.PASS]
    if passing:
        return Outcome(Status.PASS, _evidence(passing))
    return combine_all(parts)


def negate(parts: Sequence[Outcome]) -> Outcome:
    """The single part's pass and fail swapped; other statuses stay."""
    (part,) = parts
    swapped = {Status.PASS: Status.FAIL, Status.FAIL: Status.PASS}.get(part.status, part.status)
    return Outcome(swapped, part.evidence, part.reason)


COMBINATORS: dict[str, Callable[[Sequence[Outcome]], Outcome]] = {
    "all": combine_all,
    "any": combine_any,
    "not": negate,
}


def evaluate_rule(rule: Rule, context: Context) -> Outcome:
    """A rule's outcome: requirements, then the precondition (anything but pass makes the rule na), then the check."""
    missing = sorted(rule.requires - context.view.capabilities)
    if missing:
        return Outcome.not_applicable(REQUIREMENT_REASONS.get(missing[0], f"the target lacks {missing[0]}"))
    try:
        return _evaluate_guarded(rule, context)
    except (RampartError, ValidationError, OSError, ValueError) as exc:
        return Outcome.errored(_one_line(exc))


def _evaluate_guarded(rule: Rule, context: Context) -> Outcome:
    if rule.precondition is not None:
        before = evaluate_spec(rule.precondition, context)
        if before.status is not Status.PASS:
            reason = before.reason or "; ".join(before.evidence) or "precondition not met"
            return Outcome.not_applicable(reason, *before.evidence)
    return evaluate_spec(rule.check, context)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"bad check parameters: {where}: {first['msg']}"
    text = exc.message if isinstance(exc, RampartError) else str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def result_of(rule: Rule, outcome: Outcome, benchmark: str) -> RuleResult:
    return RuleResult(
        rule=rule.id,
        title=rule.title,
        section=rule.section,
        cis=tuple(rule.cis.get(benchmark, ())),
        status=outcome.status,
        severity=rule.severity,
        evidence=outcome.evidence,
        reason=outcome.reason,
        remediation=rule.remediation,
        references=rule.references,
        fixable=rule.fix is not None,
    )


def run_profile(
    profile: Profile,
    view: SystemView,
    progress: Callable[[Rule], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> HardenReport:
    """Every rule of ``profile`` evaluated over ``view``, sharing one context (and so one set of facts)."""
    started, began = datetime.now(UTC).isoformat(timespec="seconds"), clock()
    shared = Context(view)
    results = []
    for rule in profile.rules:
        if progress:
            progress(rule)
        context = shared.with_variables({**rule.variables, **profile.variables})
        results.append(result_of(rule, evaluate_rule(rule, context), profile.benchmark))
    return HardenReport(
        target=view.name,
        target_kind=view.kind,
        profile=profile.id,
        profile_title=profile.title,
        benchmark=profile.benchmark,
        results=tuple(results),
        started=started,
        duration_seconds=round(clock() - began, 3),
        warnings=profile.warnings,
    )
