"""Hardening job helpers: a test check type, a rule file using it, and a profile loader over those rules.

No shipped profile is assumed: the helpers stand in for `load_profile` (any other id is refused as the
real loader refuses it) and register a ``test_present`` check (pass when a path exists in the view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden import profiles, ruleset
from rampart.harden.checks import CHECKS
from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.model import Outcome
from rampart.harden.profiles import Profile, ProfileError

PROFILE = "test-profile"
RULES = """
section: "9.9 Test rules"
rules:
  - id: test.banner-present
    title: A login banner file exists
    rationale: Users see the terms of use before they log in.
    severity: low
    cis: {debian12: ["1.7.1"]}
    check: {type: test_present, path: /etc/issue.net}
  - id: test.no-rhosts
    title: No rhosts file for root
    rationale: Host-based trust files let others in without a password.
    severity: high
    cis: {debian12: ["7.2.9"]}
    check: {type: not, checks: [{type: test_present, path: /root/.rhosts}]}
  - id: test.review
    title: Review the site policy
    rationale: Someone must read it.
    severity: info
    check: {type: manual, instructions: Read the policy.}
"""


class PresentParams(Params):
    path: str


def _present(params: PresentParams, context: Context) -> Outcome:
    found = context.view.stat(params.path) is not None
    return Outcome.passed(f"{params.path}: exists") if found else Outcome.failed(f"{params.path}: missing")


PRESENT = CheckType("test_present", PresentParams, _present, "a path exists")


def install_test_profile(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make `run_harden` see the test rules as the only rules and ``test-profile`` as a shipped profile."""
    monkeypatch.setitem(CHECKS, "test_present", PRESENT)
    (folder / "rules.yml").write_text(RULES)
    real_load_rules = ruleset.load_rules

    def load_rules(extra: Any = ()) -> ruleset.RuleSet:
        return real_load_rules([folder / "rules.yml", *extra])

    def load_profile(
        profile_id: str | None, rules: ruleset.RuleSet, tailoring: Path | None = None
    ) -> Profile:
        if profile_id != PROFILE or tailoring is not None:
            raise ProfileError(f"no profile {profile_id!r} (rampart harden profiles lists them: {PROFILE})")
        chosen = tuple(rule for rule in rules.rules.values() if rule.id.startswith("test."))
        return Profile(id=PROFILE, title="Test profile", benchmark="debian12", rules=chosen)

    monkeypatch.setattr(ruleset, "load_rules", load_rules)
    monkeypatch.setattr(profiles, "load_profile", load_profile)


def make_root(folder: Path) -> Path:
    """A root with /etc/issue.net and a /root/.rhosts: one rule passes, one fails, one is manual."""
    root = folder / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "root").mkdir(exist_ok=True)
    (root / "etc" / "issue.net").write_text("Authorised use only\n")
    (root / "root" / ".rhosts").write_text("+ +\n")
    return root
