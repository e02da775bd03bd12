"""Re-matching the fleet after an advisory update: findings open and close across hosts in one pass."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from rampart.fleet.ingest import ingest_inventory
from rampart.fleet.inventory import Inventory, build_inventory, parse_inventory
from rampart.fleet.queries import FindingFilter, list_findings
from rampart.fleet.rematch import last_build_id, rematch_fleet
from rampart.model import OsRelease, Package
from rampart.store.engine import write_session

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
SUDO = Package("sudo", "1.9.5p2-3", "Debian:11", "/var/lib/dpkg/status", "dpkg", "sudo", "1.9.5p2-3")
XORG = Package(
    "xserver-xorg-core",
    "2:1.20.11-1+deb11u5",
    "Debian:11",
    "/var/lib/dpkg/status",
    "dpkg",
    "xorg-server",
    "2:1.20.11-1+deb11u5",
)


def inventory(packages: list[Package]) -> Inventory:
    os_release = OsRelease("debian", "11")
    return parse_inventory(build_inventory(packages, os_release, [], [], str(uuid.uuid4()), None, T0))


def open_findings(sessions: sessionmaker[Session]) -> set[tuple[str, str, str]]:
    with sessions() as session:
        _, rows = list_findings(session, FindingFilter(), limit=1000)
    return {(r.hostname, r.package, r.vulnerability_id) for r in rows}


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
def test_advisory_update_opens_and_closes_across_hosts(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_host: Callable[..., str],
    full: bool,
) -> None:
    old = advisory_db("DSA-5321-1")  # sudo only
    new = advisory_db("DSA-5380-1")  # xorg only: the sudo record is gone (as if withdrawn)
    hosts = {"a": [SUDO, XORG], "b": [XORG], "c": [SUDO]}
    for name, packages in hosts.items():
        host_id = add_host(name)
        with write_session(store_sessions) as session:
            ingest_inventory(session, host_id, inventory(packages), old, T0)
    assert open_findings(store_sessions) == {("a", "sudo", "CVE-2023-22809"), ("c", "sudo", "CVE-2023-22809")}

    outcome = rematch_fleet(store_sessions, new, "build-2", T1, full=full)

    assert (outcome.hosts, outcome.packages, outcome.opened, outcome.closed) == (3, 2, 2, 2)
    assert open_findings(store_sessions) == {
        ("a", "xserver-xorg-core", "CVE-2023-1393"),
        ("b", "xserver-xorg-core", "CVE-2023-1393"),
    }
    with store_sessions() as session:
        assert last_build_id(session) == "build-2"
        _, fixed = list_findings(session, FindingFilter(status="fixed"))
    assert {(r.hostname, r.fixed_at) for r in fixed} == {("a", T1), ("c", T1)}


def test_rematch_without_changes_changes_nothing(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    source = advisory_db("DSA-5321-1", "DSA-5380-1")
    host_id = add_host("a")
    with write_session(store_sessions) as session:
        ingest_inventory(session, host_id, inventory([SUDO, XORG]), source, T0)
    outcome = rematch_fleet(store_sessions, source, "build-1", T1)
    assert (outcome.opened, outcome.closed, outcome.packages) == (0, 0, 2)
    with store_sessions() as session:
        _, rows = list_findings(session, FindingFilter())
    assert {(r.first_seen_at, r.last_seen_at) for r in rows} == {(T0, T0)}  # last seen: the last inventory


def test_ingest_after_rematch_reuses_verdicts(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    source = advisory_db("DSA-5321-1")
    first, second = add_host("a"), add_host("b")
    with write_session(store_sessions) as session:
        ingest_inventory(session, first, inventory([SUDO]), source, T0)
    rematch_fleet(store_sessions, source, "build-1", T1)

    class Refusing:
        def advisories_for(self, ecosystem: str, name: str) -> Any:
            raise AssertionError(f"{name} was judged again")

    with write_session(store_sessions) as session:
        outcome = ingest_inventory(session, second, inventory([SUDO]), Refusing(), T1)
    assert outcome.opened == 1


def test_empty_fleet(store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any]) -> None:
    outcome = rematch_fleet(store_sessions, advisory_db("DSA-5321-1"), "b", T0)
    assert (outcome.hosts, outcome.packages, outcome.opened, outcome.closed) == (0, 0, 0, 0)


def test_advisory_returning_reopens_fixed_findings(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    with_sudo, without = advisory_db("DSA-5321-1"), advisory_db("DSA-5380-1")
    host_id = add_host("a")
    with write_session(store_sessions) as session:
        ingest_inventory(session, host_id, inventory([SUDO]), with_sudo, T0)
    assert rematch_fleet(store_sessions, without, "b2", T1).closed == 1
    again = rematch_fleet(store_sessions, with_sudo, "b3", T1 + timedelta(days=1))
    assert (again.opened, again.closed) == (1, 0)
    with store_sessions() as session:
        _, (row,) = list_findings(session, FindingFilter())
    assert (row.first_seen_at, row.fixed_at, row.status) == (T0, None, "open")
