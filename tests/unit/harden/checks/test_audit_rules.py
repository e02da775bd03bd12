"""The audit_rules check: normalisation, covering rules, runtime comparison, immutability, hostile rule files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.facts.audit import AuditRules, covers, expected_rule, parse_text
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

SUDOERS = "-w /etc/sudoers -p wa"
MOUNT64 = "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset"


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["audit_rules"].run(params, Context(build_view(tmp_path, scenario)))


def rules_file(text: str, **scenario: Any) -> dict[str, Any]:
    return {"files": {"etc/audit/rules.d/50.rules": text}, **scenario}


@pytest.mark.parametrize(
    ("actual", "wanted", "expected"),
    [
        ("-w /etc/sudoers -p wa -k scope", SUDOERS, True),
        ("-w /etc/sudoers/ -p awr", SUDOERS, True),
        ("-a always,exit -F path=/etc/sudoers -F perm=wa -F key=x", SUDOERS, True),
        ("-w /etc/sudoers -p r", SUDOERS, False),
        ("-w /etc/sudoers", SUDOERS, True),
        ("-a always,exit -F arch=b64 -S mount,umount2 -F auid!=-1 -F auid>=1000", MOUNT64, True),
        ("-a exit,always -F arch=b64 -S mount -F auid>=1000 -F auid!=4294967295 -k m", MOUNT64, True),
        ("-a always,exit -F arch=b32 -S mount -F auid>=1000 -F auid!=unset", MOUNT64, False),
        ("-a always,exit -F arch=b64 -S mount -F auid>=1000", MOUNT64, False),
        ("-a never,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset", MOUNT64, False),
        (
            "-a always,exit -F arch=b64 -C euid!=uid -F auid!=unset -S execve -k user_emulation",
            "-a always,exit -F arch=b64 -S execve -C euid!=uid -F auid!=unset",
            True,
        ),
    ],
)
def test_covers(actual: str, wanted: str, expected: bool) -> None:
    assert covers(expected_rule(actual), expected_rule(wanted)) is expected


@pytest.mark.parametrize("line", ["", "-e 2", "-a", "-w", "garbage words here", "-F arch=b64 -S x"])
def test_expected_rule_rejects_non_rules(line: str) -> None:
    with pytest.raises(ValueError):
        expected_rule(line)


def test_garbage_lines_become_notes() -> None:
    rules = AuditRules()
    parse_text("\x1b[2J\x07\n-a\n-w /x -p wa -k 'open\n-Q nonsense\n-w /etc/hosts -p wa\n", "f", rules)
    assert len(rules.rules) == 1
    assert len(rules.notes) == 4
    assert all("\x1b" not in note for note in rules.notes)


def test_huge_rules_file(tmp_path: Path) -> None:
    body = "".join(f"-w /var/tmp/f{i} -p wa -k k\n" for i in range(100_000)) + SUDOERS + "\n"
    wanted = [SUDOERS, MOUNT64, *(f"-w /var/tmp/f{i} -p wa" for i in range(0, 100_000, 997))]
    outcome = run(tmp_path, rules_file(body), rules=wanted)
    assert outcome.status is Status.FAIL
    assert [line for line in outcome.evidence if "no rule covering" in line] == [
        f"on disk: no rule covering {MOUNT64}"
    ]


def test_rules_d_preferred_over_audit_rules(tmp_path: Path) -> None:
    files = {"etc/audit/rules.d/a.rules": "-w /etc/hosts -p wa\n", "etc/audit/audit.rules": SUDOERS + "\n"}
    assert run(tmp_path, {"files": files}, rules=[SUDOERS]).status is Status.FAIL
    assert (
        run(tmp_path / "b", {"files": {"etc/audit/audit.rules": SUDOERS + "\n"}}, rules=[SUDOERS]).status
        is Status.PASS
    )


def test_no_rules_at_all_fails(tmp_path: Path) -> None:
    outcome = run(tmp_path, {}, rules=[SUDOERS])
    assert outcome.status is Status.FAIL
    assert "read no audit rules files" in outcome.evidence


def test_runtime_missing_rule_fails_and_says_so(tmp_path: Path) -> None:
    scenario = rules_file(SUDOERS + "\n", kind="host", runtime={"commands": {"auditctl -l": "No rules"}})
    outcome = run(tmp_path, scenario, rules=[SUDOERS])
    assert outcome.status is Status.FAIL
    assert f"loaded: no rule covering {SUDOERS}" in outcome.evidence


def test_live_without_auditctl_notes_it(tmp_path: Path) -> None:
    outcome = run(tmp_path, rules_file(SUDOERS + "\n", kind="host"), rules=[SUDOERS])
    assert outcome.status is Status.PASS
    assert "runtime not checked (auditctl -l unavailable)" in outcome.evidence


def test_immutable_must_be_the_last_enable_setting(tmp_path: Path) -> None:
    assert run(tmp_path / "a", rules_file("-e 2\n-e 1\n"), **{"assert": "immutable"}).status is Status.FAIL
    assert run(tmp_path / "b", rules_file("-e 1\n-e 2\n"), **{"assert": "immutable"}).status is Status.PASS


def test_privileged_commands_follow_the_walk(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "usr/bin/su": {"content": "", "mode": 0o4755},
            "usr/bin/chage": {"content": "", "mode": 0o2755},
            "etc/audit/rules.d/p.rules": "-a always,exit -F path=/usr/bin/su -F perm=x -F auid>=1000 -F auid!=unset\n",
        }
    }
    outcome = run(tmp_path, scenario, **{"assert": "privileged_commands"})
    assert outcome.status is Status.FAIL
    assert any("path=/usr/bin/chage" in line for line in outcome.evidence)
    assert (
        run(tmp_path / "b", scenario, **{"assert": "privileged_commands", "uid_min": 500}).status
        is Status.FAIL
    )


def test_runtime_matches_needs_a_live_host(tmp_path: Path) -> None:
    assert run(tmp_path, rules_file(SUDOERS + "\n"), **{"assert": "runtime_matches"}).status is Status.NA


def test_neither_rules_nor_assert_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        run(tmp_path, {})
