"""Fix actions named by shipped rules: parameters validate, and applying a fix makes a failing rule pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.context import Context
from rampart.harden.engine import evaluate_rule, substitute
from rampart.harden.fixes import FIXES
from rampart.harden.model import Status
from rampart.harden.rootview import RootView
from rampart.harden.ruleset import load_rules
from unit.harden.fixture_root import build_view

RULES = load_rules()


def test_every_rule_fix_names_a_known_action_with_valid_parameters() -> None:
    for rule in RULES.rules.values():
        if rule.fix is not None:
            FIXES[rule.fix.type].params.model_validate(substitute(dict(rule.fix.params), rule.variables))


@pytest.mark.parametrize(
    ("rule_id", "scenario"),
    [
        (
            "perm.etc-shadow",
            {"files": {"etc/shadow": {"content": "x", "mode": 0o666, "uid": 1000, "gid": 0}}},
        ),
        ("cron.d-dir-perms", {"dirs": {"etc/cron.d": {"mode": 0o755}}}),
        ("banner.issue", {"files": {"etc/issue": "Debian GNU/Linux 12 \\n \\l\n"}}),
        ("login.pass-max-days", {"files": {"etc/login.defs": "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\n"}}),
        ("login.inactive", {"files": {"etc/default/useradd": "SHELL=/bin/sh\n"}}),
        ("shell.umask", {"files": {"etc/login.defs": "UMASK 022\n"}}),
        ("shell.tmout", {"files": {"etc/profile": "# profile\n"}}),
        (
            "log.journald-storage",
            {"packages": ["bash"], "files": {"etc/systemd/journald.conf": "[Journal]\nStorage=volatile\n"}},
        ),
        ("sudo.use-pty", {"packages": ["sudo"], "files": {"etc/sudoers": "@includedir /etc/sudoers.d\n"}}),
        ("cron.allow-list", {"packages": ["cron"]}),
    ],
)
def test_fix_makes_the_rule_pass(tmp_path: Path, rule_id: str, scenario: dict[str, Any]) -> None:
    rule = RULES.rules[rule_id]
    assert rule.fix is not None
    view = build_view(tmp_path, scenario)
    assert evaluate_rule(rule, Context(view, rule.variables)).status is Status.FAIL
    fix = FIXES[rule.fix.type]
    params = fix.params.model_validate(substitute(dict(rule.fix.params), rule.variables))
    assert fix.plan(params, view)
    assert fix.apply(params, str(tmp_path / "root"))
    again = RootView(str(tmp_path / "root"))
    outcome = evaluate_rule(rule, Context(again, rule.variables))
    assert outcome.status is Status.PASS, outcome
