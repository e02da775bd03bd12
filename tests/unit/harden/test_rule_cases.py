"""Every shipped rule meets the cases written for it: each scenario built as a tree, each expected status found.

Cases live in tests/fixtures/harden/cases/*.yml as ``cases: [{rule, pass, fail, na}, ...]`` (rules whose
check is ``manual`` need none: they always ask a person); each of pass, fail and na is one scenario (see fixture_root.py) or a list of them. A scenario may add ``evidence: text`` (a
substring the result's evidence or reason must contain, as found or as a report escapes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rampart.harden.context import Context
from rampart.harden.engine import evaluate_rule
from rampart.harden.model import Status
from rampart.harden.ruleset import load_rules
from rampart.report.escape import safe_text
from unit.harden.fixture_root import build_view

CASES_DIR = Path(__file__).parents[2] / "fixtures" / "harden" / "cases"
EXPECTATIONS = ("pass", "fail", "na")
RULES = load_rules()


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            cases.append({**case, "file": path.name})
    return cases


CASES = _cases()


def _scenarios() -> list[Any]:
    params = []
    for case in CASES:
        for expected in EXPECTATIONS:
            scenarios = case.get(expected) or []
            for index, scenario in enumerate(scenarios if isinstance(scenarios, list) else [scenarios]):
                params.append(
                    pytest.param(case["rule"], expected, scenario, id=f"{case['rule']}-{expected}{index}")
                )
    return params


@pytest.mark.parametrize(("rule_id", "expected", "scenario"), _scenarios())
def test_rule_meets_its_case(tmp_path: Path, rule_id: str, expected: str, scenario: dict[str, Any]) -> None:
    rule = RULES.rules[rule_id]
    view = build_view(tmp_path, scenario)
    context = Context(view, {**rule.variables, **(scenario.get("variables") or {})})
    outcome = evaluate_rule(rule, context)
    shown = f"{outcome.status}: {outcome.reason} {outcome.evidence}"
    assert outcome.status is Status(expected), shown
    if "evidence" in scenario:
        said = " ".join((outcome.reason, *outcome.evidence))
        assert scenario["evidence"] in said or scenario["evidence"] in safe_text(said), shown


def test_shipped_rules_load_without_errors() -> None:
    assert RULES.errors == []


def test_every_rule_has_pass_fail_and_na_cases() -> None:
    covered: dict[str, set[str]] = {}
    for case in CASES:
        covered.setdefault(case["rule"], set()).update(key for key in EXPECTATIONS if case.get(key))
    judged = [rule for rule in RULES.rules.values() if rule.check.type != "manual"]
    missing = {rule.id: sorted(set(EXPECTATIONS) - covered.get(rule.id, set())) for rule in judged}
    assert {rule: gaps for rule, gaps in missing.items() if gaps} == {}


@pytest.mark.parametrize("rule_id", sorted(r.id for r in RULES.rules.values() if r.check.type == "manual"))
def test_a_manual_rule_asks_a_person_with_instructions(tmp_path: Path, rule_id: str) -> None:
    rule = RULES.rules[rule_id]
    outcome = evaluate_rule(rule, Context(build_view(tmp_path, {}), rule.variables))
    assert outcome.status is Status.MANUAL and len(outcome.reason) > 20


def test_cases_name_only_existing_rules() -> None:
    assert sorted({case["rule"] for case in CASES} - set(RULES.rules)) == []
