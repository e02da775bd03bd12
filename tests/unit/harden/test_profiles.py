"""Profiles and tailoring: extends chains, select and drop, variables, and one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.harden import profiles
from rampart.harden.profiles import ProfileError, load_profile
from rampart.harden.ruleset import RuleSet

RECORD = {
    "title": "A title",
    "rationale": "Because.",
    "severity": "low",
    "check": {"type": "manual", "instructions": "x"},
}
BASE = "id: base-profile\ntitle: Base\nbenchmark: debian12\nplatforms: [debian]\nrules: [a.one, a.two, b.three]\nvariables: {tries: 4}\n"
MIDDLE = "id: mid-profile\ntitle: Middle\nextends: base-profile\nrules: [c.four]\ndrop: [a.two]\n"


@pytest.fixture
def ruleset() -> RuleSet:
    loaded = RuleSet()
    records = [{**RECORD, "id": rule_id} for rule_id in ("a.one", "a.two", "b.three", "c.four")]
    records[0]["variables"] = {"tries": 6}
    loaded.add_document({"section": "1 S", "rules": records}, "test.yml")
    return loaded


@pytest.fixture(autouse=True)
def shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {
        "base-profile": BASE,
        "mid-profile": MIDDLE,
        "loop-a": "id: loop-a\nextends: loop-b\n",
        "loop-b": "id: loop-b\nextends: loop-a\n",
    }
    monkeypatch.setattr(profiles, "shipped_profile_ids", lambda: sorted(texts))
    monkeypatch.setattr(
        profiles,
        "_shipped_document",
        lambda pid: (
            (profiles._parse(texts[pid], pid), pid)
            if pid in texts
            else (_ for _ in ()).throw(ProfileError(f"no profile {pid!r}"))
        ),
    )


def _ids(profile: profiles.Profile) -> list[str]:
    return [rule.id for rule in profile.rules]


def test_a_profile_lists_its_rules_in_order_with_its_variables(ruleset: RuleSet) -> None:
    profile = load_profile("base-profile", ruleset)
    assert (_ids(profile), profile.variables, profile.benchmark, profile.platforms) == (
        ["a.one", "a.two", "b.three"],
        {"tries": 4},
        "debian12",
        ("debian",),
    )


def test_extends_adds_and_drops_and_inherits_the_benchmark(ruleset: RuleSet) -> None:
    profile = load_profile("mid-profile", ruleset)
    assert (_ids(profile), profile.benchmark, profile.title) == (
        ["a.one", "b.three", "c.four"],
        "debian12",
        "Middle",
    )


def test_a_tailoring_file_selects_drops_by_glob_and_sets_variables(tmp_path: Path, ruleset: RuleSet) -> None:
    tailoring = tmp_path / "t.yml"
    tailoring.write_text("extends: mid-profile\nselect: [a.two]\ndrop: ['b.*']\nvariables: {tries: 3}\n")
    profile = load_profile(None, ruleset, tailoring)
    assert (_ids(profile), profile.variables["tries"], profile.id) == (
        ["a.one", "c.four", "a.two"],
        3,
        "mid-profile+tailored",
    )


def test_a_tailoring_file_without_extends_takes_the_profile_option(tmp_path: Path, ruleset: RuleSet) -> None:
    tailoring = tmp_path / "t.yml"
    tailoring.write_text("drop: [a.one]\n")
    assert _ids(load_profile("base-profile", ruleset, tailoring)) == ["a.two", "b.three"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "extends: base-profile\nvariables: {triez: 3}\n",
            "variable 'triez' is not used by any selected rule",
        ),
        ("extends: base-profile\nselect: [no.such]\n", "no rule 'no.such'"),
        ("extends: nowhere\n", "no profile 'nowhere'"),
        ("extends: loop-a\n", "goes deeper than 8 profiles"),
        ("extends: base-profile\ncolour: red\n", "colour: Extra inputs are not permitted"),
        ("- just\n- a list\n", "Input should be a valid dictionary"),
        ("select: [a.one]\n", "a tailoring file needs 'extends: <profile>'"),
    ],
)
def test_bad_tailoring_is_one_line(tmp_path: Path, ruleset: RuleSet, text: str, message: str) -> None:
    tailoring = tmp_path / "t.yml"
    tailoring.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(None, ruleset, tailoring)
    assert message in caught.value.message and "\n" not in caught.value.message


def test_a_tailoring_extending_another_profile_than_asked_is_refused(
    tmp_path: Path, ruleset: RuleSet
) -> None:
    tailoring = tmp_path / "t.yml"
    tailoring.write_text("extends: mid-profile\n")
    with pytest.raises(ProfileError, match="not the profile 'base-profile' asked for"):
        load_profile("base-profile", ruleset, tailoring)


def test_no_profile_at_all_says_how_to_name_one(ruleset: RuleSet) -> None:
    with pytest.raises(ProfileError, match="--profile"):
        load_profile(None, ruleset)
