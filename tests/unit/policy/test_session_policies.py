"""Access-session actions: the shipped decision table, root, the mfa=required host rule, context values."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rampart.policy import Authorizer, Principal, Resource, host
from rampart.policy.loader import DEFAULT_POLICY, packaged
from rampart.policy.model import SESSION_ACTIONS, session_context

AUTHZ = Authorizer.default()
NOON = datetime(2024, 5, 6, 12, 30, tzinfo=UTC)  # a Monday
PLAIN = host("h-0000000000000001", {"env": "prod"})
BLUE = host("h-0000000000000002", {"team": "blue"})
RED = host("h-0000000000000003", {"team": "red"})
GUARDED = host("h-0000000000000004", {"mfa": "required", "env": "prod"})
OPEN_ACTIONS = ("session.shell", "session.exec", "session.forward", "session.copy", "session.join")
OPERATOR_ACTIONS = (*OPEN_ACTIONS, "session.terminate", "session.read")


def _who(roles: str, **tags: str) -> Principal:
    return Principal("alice", frozenset(roles.split(",")) - {""}, tags)


def _ctx(mfa: bool = False, ip: str = "10.1.2.3", now: datetime = NOON) -> dict[str, Any]:
    return session_context(mfa=mfa, source_ip=ip, now=now)


def _expected(role: str, action: str) -> tuple[bool, tuple[str, ...]]:
    if action == "session.root":
        return False, ()
    if role == "admin":
        return True, ("role.admin",)
    if role == "operator" and action in OPERATOR_ACTIONS:
        return True, ("role.operator-sessions",)
    if role == "auditor" and action in {"session.read", "recording.view"}:
        return True, ("role.auditor-sessions",)
    return False, ()


@pytest.mark.parametrize(
    ("role", "action"),
    list(itertools.product(["admin", "operator", "auditor", "viewer", ""], SESSION_ACTIONS)),
)
def test_role_table(role: str, action: str) -> None:
    decision = AUTHZ.authorize(_who(role), action, PLAIN, _ctx())
    assert (decision.allowed, decision.policies, decision.errors) == (*_expected(role, action), ())


def test_root_is_refused_even_to_admin_with_every_role_and_mfa() -> None:
    decision = AUTHZ.authorize(_who("admin,operator,auditor,viewer"), "session.root", PLAIN, _ctx(mfa=True))
    assert not decision.allowed and decision.errors == ()


ROOT_POLICY = """
@id("root.by-env")
permit (principal, action == Action::"session.root", resource)
when {
  principal.hasTag("root-hosts") && resource.hasTag("env") &&
  principal.getTag("root-hosts") == resource.getTag("env")
};
"""


def _with(tmp_path: Path, extra: str) -> Authorizer:
    path = tmp_path / "policy.cedar"
    path.write_text(packaged(DEFAULT_POLICY) + extra)
    return Authorizer.from_files(path)


def test_an_explicit_root_policy_allows_root_where_it_says(tmp_path: Path) -> None:
    authz = _with(tmp_path, ROOT_POLICY)
    prod = _who("operator", **{"root-hosts": "prod"})
    allowed = authz.authorize(prod, "session.root", PLAIN, _ctx())
    assert (allowed.allowed, allowed.policies) == (True, ("root.by-env",))
    assert not authz.authorize(prod, "session.root", host("h-9", {"env": "dev"}), _ctx()).allowed
    assert not authz.authorize(_who("admin"), "session.root", PLAIN, _ctx()).allowed


@pytest.mark.parametrize("action", OPEN_ACTIONS)
@pytest.mark.parametrize("role", ["admin", "operator"])
def test_mfa_required_host_needs_a_second_factor(role: str, action: str) -> None:
    without = AUTHZ.authorize(_who(role), action, GUARDED, _ctx(mfa=False))
    assert (without.allowed, without.policies) == (False, ("forbid.mfa-required-host",))
    assert AUTHZ.authorize(_who(role), action, GUARDED, _ctx(mfa=True)).allowed


@pytest.mark.parametrize("action", ["session.read", "session.terminate"])
def test_mfa_rule_leaves_reading_and_ending_alone(action: str) -> None:
    assert AUTHZ.authorize(_who("operator"), action, GUARDED, _ctx(mfa=False)).allowed


@pytest.mark.parametrize("value", ["optional", "REQUIRED", "no"])
def test_other_mfa_tag_values_do_not_forbid(value: str) -> None:
    target = host("h-5", {"mfa": value})
    assert AUTHZ.authorize(_who("operator"), "session.shell", target, _ctx()).allowed


@pytest.mark.parametrize("action", SESSION_ACTIONS[:-1])
def test_team_rule_covers_sessions(action: str) -> None:
    blue_operator = _who("operator,auditor", team="blue")
    assert AUTHZ.authorize(blue_operator, action, BLUE, _ctx()).allowed
    decision = AUTHZ.authorize(blue_operator, action, RED, _ctx())
    assert (decision.allowed, decision.policies) == (False, ("forbid.other-team-host",))
    assert AUTHZ.authorize(_who("admin", team="blue"), action, RED, _ctx()).allowed


def test_disabled_user_gets_no_session() -> None:
    who = Principal("alice", {"admin"}, {}, disabled=True)
    decision = AUTHZ.authorize(who, "session.shell", PLAIN, _ctx(mfa=True))
    assert not decision.allowed and "forbid.disabled-user" in decision.policies


@pytest.mark.parametrize(
    "context", [None, {}, {"mfa": True}, {**_ctx(), "extra": 1}, {**_ctx(), "hour": "12"}]
)
def test_session_actions_without_a_proper_context_are_denied(context: dict[str, Any] | None) -> None:
    decision = AUTHZ.authorize(_who("admin"), "session.shell", PLAIN, context)
    assert not decision.allowed and decision.errors


def test_session_actions_apply_to_hosts_only() -> None:
    decision = AUTHZ.authorize(_who("admin"), "session.shell", Resource("Fleet", "fleet"), _ctx())
    assert not decision.allowed and decision.errors


CONTEXT_POLICY = """
@id("office-network")
permit (principal, action == Action::"session.shell", resource)
when { context.source_ip.isInRange(ip("10.0.0.0/8")) };

@id("office-hours")
forbid (principal, action == Action::"session.shell", resource)
unless { context.hour >= 8 && context.hour < 18 && context.weekday < 5 };

@id("v6-lab")
permit (principal, action == Action::"session.exec", resource)
when { context.source_ip.isInRange(ip("2001:db8::/32")) };
"""


@pytest.fixture
def context_authz(tmp_path: Path) -> Authorizer:
    path = tmp_path / "context.cedar"
    path.write_text(CONTEXT_POLICY)
    return Authorizer.from_files(path)


@pytest.mark.parametrize(
    ("ip", "now", "allowed", "policies"),
    [
        ("10.1.2.3", NOON, True, ("office-network",)),
        ("10.255.255.255", NOON.replace(hour=8, minute=0), True, ("office-network",)),
        ("::ffff:10.9.9.9", NOON, True, ("office-network",)),
        ("11.0.0.1", NOON, False, ()),
        ("unknown", NOON, False, ()),
        ("testclient", NOON, False, ()),
        ("", NOON, False, ()),
        ("10.1.2.3", NOON.replace(hour=18, minute=0), False, ("office-hours",)),
        ("10.1.2.3", NOON.replace(hour=7, minute=59), False, ("office-hours",)),
        ("10.1.2.3", NOON + timedelta(days=5), False, ("office-hours",)),  # Saturday
        (
            "10.1.2.3",
            datetime(2024, 5, 6, 14, 0, tzinfo=timezone(timedelta(hours=5))),
            True,
            ("office-network",),
        ),
        (
            "10.1.2.3",
            datetime(2024, 5, 6, 2, 0, tzinfo=timezone(timedelta(hours=-8))),
            True,
            ("office-network",),
        ),
    ],
)
def test_source_ip_and_hour_policies(
    context_authz: Authorizer, ip: str, now: datetime, allowed: bool, policies: tuple[str, ...]
) -> None:
    decision = context_authz.authorize(_who("viewer"), "session.shell", PLAIN, _ctx(ip=ip, now=now))
    assert (decision.allowed, decision.policies, decision.errors) == (allowed, policies, ())


@pytest.mark.parametrize(("ip", "allowed"), [("2001:db8::1", True), ("fe80::1%eth0", False), ("::1", False)])
def test_ipv6_addresses(context_authz: Authorizer, ip: str, allowed: bool) -> None:
    assert context_authz.authorize(_who(""), "session.exec", PLAIN, _ctx(ip=ip)).allowed is allowed


@pytest.mark.parametrize(
    ("ip", "arg"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("::FFFF:10.1.2.3", "10.1.2.3"),
        ("fe80::1%eth0", "fe80::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("unknown", "0.0.0.0"),
        ("testclient", "0.0.0.0"),
        ("", "0.0.0.0"),
        ("10.1.2.3/8", "0.0.0.0"),
        (" 10.1.2.3", "0.0.0.0"),
        ("1" * 10_000, "0.0.0.0"),
        ("10.1.2.3\x00", "0.0.0.0"),
        ('ip("1.2.3.4")', "0.0.0.0"),
    ],
)
def test_session_context_addresses(ip: str, arg: str) -> None:
    assert _ctx(ip=ip)["source_ip"] == {"__extn": {"fn": "ip", "arg": arg}}


def test_session_context_time_is_utc() -> None:
    east = datetime(2024, 5, 6, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # Sunday 22:00 UTC
    assert _ctx(now=east) == {**_ctx(now=east), "hour": 22, "weekday": 6}
    assert _ctx(mfa=True, now=datetime(2024, 5, 6, 9, 0))["hour"] == 9  # naive is UTC
    assert _ctx(mfa=True)["mfa"] is True


def test_filter_allowed_with_a_context_matches_one_by_one() -> None:
    hosts = [host(f"h-{n:04x}", tags) for n, tags in enumerate(_tag_sets() * 30)]
    for who, mfa in itertools.product(
        [_who("operator", team="blue"), _who("auditor"), _who("admin")], [False, True]
    ):
        context = _ctx(mfa=mfa)
        expected = [h for h in hosts if AUTHZ.authorize(who, "session.shell", h, context).allowed]
        assert AUTHZ.filter_allowed(who, "session.shell", hosts, context) == expected


def _tag_sets() -> list[dict[str, str]]:
    return [{}, {"team": "blue"}, {"team": "red"}, {"mfa": "required"}, {"team": "blue", "mfa": "required"}]


def test_filter_allowed_with_a_context_and_host_literals(tmp_path: Path) -> None:
    path = tmp_path / "one.cedar"
    path.write_text(
        '@id("one") permit (principal, action == Action::"session.read", resource == Host::"h-2");'
    )
    authz = Authorizer.from_files(path)
    hosts = [host("h-1"), host("h-2"), host("h-3")]
    assert authz.filter_allowed(_who(""), "session.read", hosts, _ctx()) == [host("h-2")]
