"""Loading rule files: each bad record is one line naming the file and rule; the rest still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.harden.ruleset import RuleFileError, RuleSet, load_rules, read_yaml

GOOD = {
    "id": "x.one",
    "title": "A title",
    "rationale": "Because.",
    "severity": "low",
    "check": {"type": "manual", "instructions": "look"},
}


def _load(*records: object, section: str = "9 Test") -> RuleSet:
    ruleset = RuleSet()
    ruleset.add_document({"section": section, "rules": list(records)}, "extra.yml")
    return ruleset


def test_a_good_record_loads_with_the_file_section() -> None:
    rule = _load(GOOD).rules["x.one"]
    assert (rule.section, rule.check.type, rule.check.params) == (
        "9 Test",
        "manual",
        {"instructions": "look"},
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "urgent"}, "extra.yml: rule 'x.one': severity:"),
        ({"check": {"type": "nonsense"}}, "unknown check type 'nonsense'"),
        ({"check": {"type": "all", "checks": []}}, "'all' needs a non-empty 'checks' list"),
        ({"id": "Bad Id!"}, "extra.yml: rule 'Bad Id!': id:"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"requires": ["moon"]}, "requires.0:"),
    ],
)
def test_a_bad_record_is_one_line_and_the_others_still_load(change: dict[str, object], message: str) -> None:
    ruleset = _load({**GOOD, **change}, {**GOOD, "id": "x.two"})
    assert list(ruleset.rules) == ["x.two"]
    assert len(ruleset.errors) == 1 and message in ruleset.errors[0]
    assert "\n" not in ruleset.errors[0]


def test_a_duplicate_id_is_refused() -> None:
    ruleset = _load(GOOD, GOOD)
    assert ruleset.errors == ["extra.yml: rule 'x.one': duplicate rule id (first in extra.yml)"]


@pytest.mark.parametrize("document", [None, [], {"rules": "x"}, "text", 42])
def test_a_document_that_is_not_a_rule_file_is_one_error(document: object) -> None:
    ruleset = RuleSet()
    ruleset.add_document(document, "odd.yml")
    assert ruleset.errors == ["odd.yml: not a rule file (a mapping with a 'rules' list)"]


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(RuleFileError, match=r"^bad.yml: line \d not valid YAML"):
        read_yaml("rules:\n  - [unclosed\nnext: 1\n", "bad.yml")


def test_yaml_aliases_cannot_blow_up_memory() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    document = read_yaml(bomb, "bomb.yml")
    ruleset = RuleSet()
    ruleset.add_document(document, "bomb.yml")
    assert len(ruleset.errors) == 1


def test_extra_files_load_after_the_shipped_rules_and_bad_files_do_not_stop_them(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(
        "rules:\n  - {id: extra.rule, title: Extra rule, rationale: Why., severity: high, check: {type: manual, instructions: x}}\n"
    )
    broken = tmp_path / "broken.yml"
    broken.write_text("rules: [\n")
    missing = tmp_path / "missing.yml"
    ruleset = load_rules([good, broken])
    assert "extra.rule" in ruleset.rules
    assert any(line.startswith(f"{broken}: line") for line in ruleset.errors)
    with pytest.raises(RuleFileError, match="cannot be read"):
        load_rules([missing])


def test_a_huge_rule_file_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yml"
    huge.write_bytes(b"#" * (5 << 20))
    ruleset = load_rules([huge])
    assert any("larger than 4 MiB" in line for line in ruleset.errors)
