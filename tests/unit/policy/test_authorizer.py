"""The shipped policies: a decision table by role, tags and action, deny by default, filter_allowed."""

from __future__ import annotations

import random

import pytest

from rampart.errors import UsageError
from rampart.policy import AUDIT, FLEET, Authorizer, Principal, Resource, host, user

AUTHZ = Authorizer.default()
BLUE_HOST = host("h-0000000000000001", {"team": "blue"})
RED_HOST = host("h-0000000000000002", {"team": "red", "env": "prod"})
FREE_HOST = host("h-0000000000000003", {"env": "dev"})
NEW_BLUE = Resource("Host", "new-host", {"team": "blue"})


def _who(roles: str, team: str | None = None, disabled: bool = False) -> Principal:
    tags = {"team": team} if team else {}
    return Principal("alice", frozenset(roles.split(",")) - {""}, tags, disabled)


TABLE = [
    # role, team, action, resource, allowed, deciding policies
    ("viewer", None, "host.read", BLUE_HOST, True, ("role.read-hosts",)),
    ("viewer", None, "finding.read", FLEET, True, ("role.read-hosts",)),
    ("viewer", None, "host.scan", BLUE_HOST, False, ()),
    ("viewer", None, "audit.read", AUDIT, False, ()),
    ("viewer", None, "user.read", FLEET, False, ()),
    ("viewer", "blue", "host.read", BLUE_HOST, True, ("role.read-hosts",)),
    ("viewer", "blue", "host.read", RED_HOST, False, ("forbid.other-team-host",)),
    ("viewer", "blue", "finding.read", RED_HOST, False, ("forbid.other-team-host",)),
    ("viewer", "blue", "host.read", FREE_HOST, True, ("role.read-hosts",)),
    ("auditor", None, "audit.read", AUDIT, True, ("role.auditor-audit",)),
    ("auditor", None, "host.read", RED_HOST, True, ("role.read-hosts",)),
    ("auditor", None, "host.revoke", RED_HOST, False, ()),
    ("operator", None, "host.scan", RED_HOST, True, ("role.operator-hosts",)),
    ("operator", None, "host.revoke", RED_HOST, True, ("role.operator-hosts",)),
    ("operator", None, "advisory.rematch", FLEET, True, ("role.operator-rematch",)),
    ("operator", None, "jointoken.create", FLEET, True, ("role.operator-join-tokens",)),
    ("operator", None, "jointoken.delete", FLEET, True, ("role.operator-join-tokens",)),
    ("operator", "blue", "jointoken.create", NEW_BLUE, True, ("role.operator-join-tokens",)),
    ("operator", "red", "jointoken.create", NEW_BLUE, False, ("forbid.other-team-host",)),
    ("operator", "red", "host.scan", BLUE_HOST, False, ("forbid.other-team-host",)),
    ("operator", "red", "host.scan", RED_HOST, True, ("role.operator-hosts",)),
    ("operator", None, "audit.read", AUDIT, False, ()),
    ("operator", None, "user.write", user("bob"), False, ()),
    ("admin", None, "user.write", user("bob"), True, ("role.admin",)),
    ("admin", None, "user.read", FLEET, True, ("role.admin",)),
    ("admin", None, "audit.read", AUDIT, True, ("role.admin",)),
    ("admin", "blue", "host.revoke", RED_HOST, True, ("role.admin",)),
    ("admin,operator", "blue", "host.scan", RED_HOST, True, ("role.admin", "role.operator-hosts")),
    ("", None, "host.read", FREE_HOST, False, ()),
    ("", None, "token.self", user("alice"), True, ("self.tokens",)),
    ("viewer", None, "token.self", user("bob"), False, ()),
    ("superuser", None, "host.read", FREE_HOST, False, ()),
]


@pytest.mark.parametrize(("roles", "team", "action", "resource", "allowed", "policies"), TABLE)
def test_decision_table(
    roles: str, team: str | None, action: str, resource: Resource, allowed: bool, policies: tuple[str, ...]
) -> None:
    decision = AUTHZ.authorize(_who(roles, team), action, resource)
    assert (decision.allowed, decision.policies, decision.errors) == (allowed, policies, ())


@pytest.mark.parametrize("action", ["host.read", "token.self", "user.write", "audit.read"])
def test_disabled_users_may_do_nothing(action: str) -> None:
    resource = (
        user("alice")
        if action in {"token.self", "user.write"}
        else FREE_HOST
        if action == "host.read"
        else AUDIT
    )
    decision = AUTHZ.authorize(_who("admin", disabled=True), action, resource)
    assert not decision.allowed
    assert "forbid.disabled-user" in decision.policies


@pytest.mark.parametrize("action", ["host.delete", "session.start", "", "Host.read", 'host.read" || true'])
def test_unknown_actions_are_denied_even_for_admin(action: str) -> None:
    decision = AUTHZ.authorize(_who("admin"), action, FREE_HOST)
    assert not decision.allowed and decision.errors


def test_action_on_the_wrong_resource_type_is_denied() -> None:
    decision = AUTHZ.authorize(_who("admin"), "audit.read", FREE_HOST)
    assert not decision.allowed and decision.errors


@pytest.mark.parametrize("resource", [Resource("Bogus", "x"), Resource("Host", 'h\n"x', {"team": "a\x00b"})])
def test_odd_resources_never_raise(resource: Resource) -> None:
    decision = AUTHZ.authorize(_who("viewer"), "host.read", resource)
    assert decision.allowed is (resource.type == "Host")


def test_undeclared_context_is_denied() -> None:
    decision = AUTHZ.authorize(_who("admin"), "host.read", FREE_HOST, {"mfa": True})
    assert not decision.allowed and "context" in decision.errors[0]


def test_user_resource_for_the_principal_uses_the_principal_entity() -> None:
    decision = AUTHZ.authorize(_who("viewer", "blue"), "token.self", user("alice", {"team": "red"}))
    assert decision.allowed


def _fleet(count: int) -> list[Resource]:
    teams = ["blue", "red", "green", None]
    rng = random.Random(7)
    result = []
    for index in range(count):
        team = rng.choice(teams)
        tags = {"team": team, "env": rng.choice(["prod", "dev"])} if team else {}
        result.append(host(f"h-{index:016x}", tags))
    return result


@pytest.mark.parametrize(
    ("roles", "team"),
    [("viewer", "blue"), ("viewer", None), ("admin", "red"), ("", None), ("operator", "green")],
)
def test_filter_allowed_matches_one_by_one_decisions(roles: str, team: str | None) -> None:
    hosts = _fleet(200)
    who = _who(roles, team)
    expected = [item for item in hosts if AUTHZ.authorize(who, "host.scan", item).allowed]
    assert AUTHZ.filter_allowed(who, "host.scan", hosts) == expected


def test_filter_allowed_keeps_order_and_handles_empty_input() -> None:
    hosts = _fleet(50)
    allowed = AUTHZ.filter_allowed(_who("viewer", "blue"), "host.read", hosts)
    assert allowed == [h for h in hosts if h.tags.get("team") in {"blue", None}]
    assert AUTHZ.filter_allowed(_who("viewer"), "host.read", []) == []


def test_filter_allowed_on_a_large_fleet() -> None:
    hosts = _fleet(10_000)
    allowed = AUTHZ.filter_allowed(_who("viewer", "red"), "host.read", hosts)
    assert allowed == [h for h in hosts if h.tags.get("team") in {"red", None}]


def test_filter_allowed_refuses_conflicting_duplicates() -> None:
    with pytest.raises(UsageError, match="listed twice"):
        AUTHZ.filter_allowed(
            _who("viewer"), "host.read", [host("h-1", {"team": "a"}), host("h-1", {"team": "b"})]
        )


def test_filter_allowed_keeps_identical_duplicates() -> None:
    assert len(AUTHZ.filter_allowed(_who("viewer"), "host.read", [FREE_HOST, FREE_HOST])) == 2


def test_filter_allowed_for_users_decides_by_identity() -> None:
    people = [user("alice"), user("bob")]
    assert AUTHZ.filter_allowed(_who("viewer"), "token.self", people) == [user("alice")]


def test_filter_allowed_with_unknown_action_is_empty() -> None:
    assert AUTHZ.filter_allowed(_who("admin"), "host.nuke", _fleet(10)) == []
