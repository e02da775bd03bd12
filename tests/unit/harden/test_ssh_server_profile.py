"""The shipped SSH server profile loads against the shipped rules and selects the SSH rules."""

from __future__ import annotations

from rampart.harden.profiles import load_profile
from rampart.harden.ruleset import load_rules


def test_ssh_server_profile_loads() -> None:
    ruleset = load_rules()
    profile = load_profile("ssh-server", ruleset)
    ids = [rule.id for rule in profile.rules]
    assert profile.benchmark == "debian12"
    assert {rule_id for rule_id in ruleset.rules if rule_id.startswith("ssh.")} <= set(ids)
    assert "accounts.no-empty-passwords" in ids
    assert len(ids) == len(set(ids))
