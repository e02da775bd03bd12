"""The benchmark profiles cover their benchmark: every automatable server item of the control map is carried
by a rule of the matching profile, and every shipped profile loads without errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rampart.harden.profiles import load_profile, shipped_profile_ids
from rampart.harden.ruleset import load_rules

COMPLIANCE = Path(__file__).resolve().parents[4] / "shared" / "compliance"
RULES = load_rules()
AUTOMATABLE = {"automated", "partial"}
LEVELS = {"l1-server": {"l1_server"}, "l2-server": {"l1_server", "l2_server"}}
NOT_COVERED: dict[str, dict[str, str]] = {"debian12": {}, "ubuntu2404": {}, "al2023": {}}


def _items(benchmark: str, levels: set[str]) -> set[str]:
    controls = yaml.safe_load((COMPLIANCE / f"cis_{benchmark}.yml").read_text())["controls"]
    return {
        str(c["id"]) for c in controls if c.get("status") in AUTOMATABLE and levels & set(c.get("levels", ()))
    }


@pytest.mark.parametrize("profile_id", shipped_profile_ids())
def test_every_shipped_profile_loads(profile_id: str) -> None:
    profile = load_profile(profile_id, RULES)
    assert profile.rules and profile.benchmark


@pytest.mark.parametrize(
    ("benchmark", "level"),
    [
        ("debian12", "l1-server"),
        ("debian12", "l2-server"),
        ("ubuntu2404", "l1-server"),
        ("ubuntu2404", "l2-server"),
    ],
)
def test_the_profile_carries_every_automatable_item_of_its_level(benchmark: str, level: str) -> None:
    profile = load_profile(f"{benchmark}-{level}", RULES)
    carried = {item for rule in profile.rules for item in rule.cis.get(benchmark, ())}
    missing = _items(benchmark, LEVELS[level]) - carried - set(NOT_COVERED[benchmark])
    assert sorted(missing) == []


def test_every_reference_names_a_rule_of_the_control_maps() -> None:
    known: set[str] = set()
    for path in COMPLIANCE.glob("cis_*.yml"):
        for control in yaml.safe_load(path.read_text())["controls"]:
            known.update(
                name
                for name in (control.get("rules") or []) + (control.get("related_rules") or [])
                if "=" not in name
            )
    unknown = {rule.id: sorted(set(rule.references) - known) for rule in RULES.rules.values()}
    assert {rule: names for rule, names in unknown.items() if names} == {}


@pytest.mark.parametrize("benchmark", ["debian12", "ubuntu2404", "al2023"])
def test_benchmark_ids_carried_by_rules_exist_in_the_benchmark(benchmark: str) -> None:
    controls = yaml.safe_load((COMPLIANCE / f"cis_{benchmark}.yml").read_text())["controls"]
    ids = {str(control["id"]) for control in controls}
    carried = {rule.id: sorted(set(rule.cis.get(benchmark, ())) - ids) for rule in RULES.rules.values()}
    assert {rule: bad for rule, bad in carried.items() if bad} == {}
