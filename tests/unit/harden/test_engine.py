"""The engine: requirements, preconditions, combinators, variables, and errors kept to one line per rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden import engine
from rampart.harden.checks import CHECKS
from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.model import CheckSpec, Level, Outcome, Rule, Status
from rampart.harden.rootview import RootView
from rampart.harden.runtime import StaticRuntime


class FixedParams(Params):
    status: str
    limit: int = 0
    reason: str = ""


def _fixed(params: FixedParams, context: Context) -> Outcome:
    if params.status == "raise":
        raise OSError("disk on fire\nsecond line")
    return Outcome(Status(params.status), (f"limit={params.limit}",), params.reason)


@pytest.fixture(autouse=True)
def fixed_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, "fixed", CheckType("fixed", FixedParams, _fixed))


def _rule(check: dict[str, Any], **fields: Any) -> Rule:
    spec = CheckSpec(check["type"], {k: v for k, v in check.items() if k != "type"})
    return Rule(
        id="t.rule",
        title="a rule",
        rationale="why",
        severity=Level.LOW,
        section="1 Test",
        check=spec,
        **fields,
    )


def _context(tmp_path: Path, live: bool = False, variables: dict[str, Any] | None = None) -> Context:
    return Context(RootView(str(tmp_path), StaticRuntime() if live else None), variables)


def test_a_missing_requirement_makes_the_rule_na_with_the_reason(tmp_path: Path) -> None:
    outcome = engine.evaluate_rule(
        _rule({"type": "fixed", "status": "fail"}, requires=frozenset({"runtime"})), _context(tmp_path)
    )
    assert (outcome.status, outcome.reason) == (Status.NA, "needs a running system; the target is offline")


def test_a_requirement_the_target_has_lets_the_check_run(tmp_path: Path) -> None:
    rule = _rule({"type": "fixed", "status": "fail"}, requires=frozenset({"runtime", "kernel"}))
    assert engine.evaluate_rule(rule, _context(tmp_path, live=True)).status is Status.FAIL


def test_a_precondition_that_does_not_pass_makes_the_rule_na(tmp_path: Path) -> None:
    rule = _rule(
        {"type": "fixed", "status": "fail"},
        precondition=CheckSpec("fixed", {"status": "fail", "reason": "no sshd"}),
    )
    outcome = engine.evaluate_rule(rule, _context(tmp_path))
    assert (outcome.status, outcome.reason) == (Status.NA, "no sshd")


def test_a_passing_precondition_lets_the_check_decide(tmp_path: Path) -> None:
    rule = _rule({"type": "fixed", "status": "fail"}, precondition=CheckSpec("fixed", {"status": "pass"}))
    assert engine.evaluate_rule(rule, _context(tmp_path)).status is Status.FAIL


def test_an_exception_becomes_an_error_of_one_line(tmp_path: Path) -> None:
    outcome = engine.evaluate_rule(_rule({"type": "fixed", "status": "raise"}), _context(tmp_path))
    assert (outcome.status, outcome.reason) == (Status.ERROR, "disk on fire")


def test_bad_parameters_become_an_error_naming_the_parameter(tmp_path: Path) -> None:
    outcome = engine.evaluate_rule(
        _rule({"type": "fixed", "status": "pass", "limit": "many"}), _context(tmp_path)
    )
    assert outcome.status is Status.ERROR
    assert outcome.reason.startswith("bad check parameters: limit:")


def test_variables_substitute_keeping_their_type(tmp_path: Path) -> None:
    rule = _rule({"type": "fixed", "status": "pass", "limit": "${tries}"})
    assert engine.evaluate_rule(rule, _context(tmp_path, variables={"tries": 4})).evidence == ("limit=4",)


def test_an_unknown_variable_is_an_error(tmp_path: Path) -> None:
    outcome = engine.evaluate_rule(
        _rule({"type": "fixed", "status": "pass", "limit": "${nope}"}), _context(tmp_path)
    )
    assert (outcome.status, outcome.reason) == (Status.ERROR, "unknown variable ${nope}")


def test_substitution_inside_text_and_nested_lists() -> None:
    value = engine.substitute({"a": ["x${n}y", "${n}"], "b": 3}, {"n": 7})
    assert value == {"a": ["x7y", 7], "b": 3}


def _parts(*statuses: str) -> list[Outcome]:
    return [Outcome(Status(status), (status,)) for status in statuses]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("pass", "pass"), "pass"),
        (("pass", "fail"), "fail"),
        (("pass", "error"), "error"),
        (("error", "fail"), "fail"),
        (("na", "pass"), "pass"),
        (("na", "na"), "na"),
        (("manual", "pass"), "manual"),
    ],
)
def test_all_needs_every_part(statuses: tuple[str, ...], expected: str) -> None:
    assert engine.combine_all(_parts(*statuses)).status is Status(expected)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("fail", "pass"), "pass"),
        (("fail", "fail"), "fail"),
        (("na", "fail"), "fail"),
        (("error", "na"), "error"),
    ],
)
def test_any_needs_one_passing_part(statuses: tuple[str, ...], expected: str) -> None:
    assert engine.combine_any(_parts(*statuses)).status is Status(expected)


def test_not_swaps_pass_and_fail_only() -> None:
    assert engine.negate(_parts("pass")).status is Status.FAIL
    assert engine.negate(_parts("na")).status is Status.NA


def test_nested_combinators_evaluate_through_the_table(tmp_path: Path) -> None:
    check = {
        "type": "any",
        "checks": [
            {"type": "fixed", "status": "fail"},
            {"type": "all", "checks": [{"type": "fixed", "status": "pass"}]},
        ],
    }
    assert engine.evaluate_rule(_rule(check), _context(tmp_path)).status is Status.PASS


def test_manual_check_is_manual_with_its_instructions(tmp_path: Path) -> None:
    outcome = engine.evaluate_rule(
        _rule({"type": "manual", "instructions": "review SUID files"}), _context(tmp_path)
    )
    assert (outcome.status, outcome.reason) == (Status.MANUAL, "review SUID files")


def test_facts_are_computed_once_per_run_and_shared_across_rule_variables(tmp_path: Path) -> None:
    calls: list[int] = []
    context = _context(tmp_path)
    other = context.with_variables({"x": 1})
    assert context.memo("k", lambda: calls.append(1) or 5) == 5
    assert other.memo("k", lambda: calls.append(1) or 6) == 5
    assert calls == [1]


def test_the_same_reason_from_several_parts_is_said_once() -> None:
    parts = [Outcome(Status.NA, (), "no GRUB bootloader"), Outcome(Status.NA, (), "no GRUB bootloader")]
    assert engine.combine_all(parts).reason == "no GRUB bootloader"
