"""Fleet views: the findings list and its filters, summaries, a host's packages and per-host counts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from rampart.fleet.ingest import ingest_inventory
from rampart.fleet.inventory import build_inventory, parse_inventory
from rampart.fleet.queries import (
    FindingFilter,
    HostCounts,
    fleet_summary,
    host_counts,
    host_package_rows,
    host_summaries,
    list_findings,
)
from rampart.model import OsRelease, Package, Severity
from rampart.store import hosts as host_store
from rampart.store.engine import write_session

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def deb(name: str, version: str, source: str | None = None) -> Package:
    return Package(name, version, "Debian:11", "/var/lib/dpkg/status", "dpkg", source or name, version)


SUDO_OLD, SUDO_NEW = deb("sudo", "1.9.5p2-3"), deb("sudo", "1.9.5p2-3+deb11u1")
XORG = deb("xserver-xorg-core", "2:1.20.11-1+deb11u5", "xorg-server")
CURL = deb("curl", "7.74.0-1.3+deb11u7")


@pytest.fixture
def fleet(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> dict[str, str]:
    """web (team red): sudo old + xorg; db (team blue): xorg + curl; dev (no team): sudo fixed later."""
    source = advisory_db("DSA-5321-1", "DSA-5380-1", "DSA-5365-1")
    ids = {"web": add_host("web", team="red"), "db": add_host("db", team="blue"), "dev": add_host("dev")}
    uploads = [("web", [SUDO_OLD, XORG], T0), ("db", [XORG, CURL], T0), ("dev", [SUDO_OLD], T0)]
    uploads.append(("dev", [SUDO_NEW], T0 + timedelta(days=1)))
    for name, packages, at in uploads:
        data = build_inventory(packages, OsRelease("debian", "11"), [], [], str(uuid.uuid4()), None, at)
        with write_session(store_sessions) as session:
            ingest_inventory(session, ids[name], parse_inventory(data), source, at)
    return ids


def keys(sessions: sessionmaker[Session], **filters: Any) -> list[tuple[str, str, str]]:
    with sessions() as session:
        total, rows = list_findings(session, FindingFilter(**filters), limit=100)
    assert total == len(rows)
    return [(r.hostname, r.package, r.vulnerability_id) for r in rows]


WEB_SUDO = ("web", "sudo", "CVE-2023-22809")
WEB_XORG = ("web", "xserver-xorg-core", "CVE-2023-1393")
DB_XORG = ("db", "xserver-xorg-core", "CVE-2023-1393")
DEV_SUDO = ("dev", "sudo", "CVE-2023-22809")


def test_filters(store_sessions: sessionmaker[Session], fleet: dict[str, str]) -> None:
    assert sorted(keys(store_sessions)) == sorted([WEB_SUDO, WEB_XORG, DB_XORG])
    assert keys(store_sessions, status="fixed") == [DEV_SUDO]
    assert len(keys(store_sessions, status="all")) == 4
    assert sorted(keys(store_sessions, host="web")) == sorted([WEB_SUDO, WEB_XORG])
    assert keys(store_sessions, host=fleet["db"]) == [DB_XORG]
    assert keys(store_sessions, tag=("team", "blue")) == [DB_XORG]
    assert keys(store_sessions, tag=("team", "green")) == []
    assert keys(store_sessions, package="sudo") == [WEB_SUDO]
    assert sorted(keys(store_sessions, advisory="CVE-2023-1393")) == sorted([WEB_XORG, DB_XORG])
    assert keys(store_sessions, host_ids={fleet["web"]}, package="sudo") == [WEB_SUDO]
    assert keys(store_sessions, host_ids=set()) == []
    assert keys(store_sessions, fixable=False) == []
    assert len(keys(store_sessions, fixable=True)) == 3


def test_advisory_filter_matches_aliases(
    store_sessions: sessionmaker[Session], fleet: dict[str, str]
) -> None:
    with store_sessions() as session:
        _, rows = list_findings(session, FindingFilter(package="sudo"))
    alias = rows[0].aliases[0]
    assert keys(store_sessions, advisory=alias) == [WEB_SUDO]
    assert keys(store_sessions, advisory="%") == [] and keys(store_sessions, advisory='"') == []


def test_severity_filter_and_order(store_sessions: sessionmaker[Session], fleet: dict[str, str]) -> None:
    with store_sessions() as session:
        _, rows = list_findings(session, FindingFilter())
    severities = [r.severity for r in rows]
    assert severities == sorted(severities, reverse=True)
    worst = severities[0]
    assert {r.severity for r in rows} >= {worst}
    only = keys(store_sessions, severities=frozenset({worst}))
    assert only and all(k in keys(store_sessions) for k in only)
    assert keys(store_sessions, severities=frozenset({Severity.UNKNOWN} - {worst})) == [
        k for k, r in zip(keys(store_sessions), rows, strict=True) if r.severity == Severity.UNKNOWN
    ]


def test_paging(store_sessions: sessionmaker[Session], fleet: dict[str, str]) -> None:
    everything = keys(store_sessions)
    with store_sessions() as session:
        total, page = list_findings(session, FindingFilter(), limit=2, offset=1)
    assert total == 3 and [(r.hostname, r.package, r.vulnerability_id) for r in page] == everything[1:3]


def test_summaries(store_sessions: sessionmaker[Session], fleet: dict[str, str]) -> None:
    with store_sessions() as session:
        summary = fleet_summary(session)
        per_host = {s.hostname: s for s in host_summaries(session)}
        red = fleet_summary(session, tag=("team", "red"))
        limited = host_summaries(session, host_ids={fleet["dev"]})
    assert summary.hosts == 3 and sum(summary.open.values()) == 3 and summary.fixable == 3
    assert list(summary.open) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    assert sum(per_host["web"].open.values()) == 2 and sum(per_host["dev"].open.values()) == 0
    assert (red.hosts, sum(red.open.values())) == (1, 2)
    assert [s.hostname for s in limited] == ["dev"]


def test_revoked_hosts_do_not_count_as_fleet(
    store_sessions: sessionmaker[Session], fleet: dict[str, str]
) -> None:
    with write_session(store_sessions) as session:
        host_store.revoke_host(session, fleet["db"], T0)
    with store_sessions() as session:
        assert fleet_summary(session).hosts == 2


def test_host_packages_and_counts(store_sessions: sessionmaker[Session], fleet: dict[str, str]) -> None:
    with store_sessions() as session:
        packages = host_package_rows(session, fleet["db"])
        counts = host_counts(session)
        only_dev = host_counts(session, [fleet["dev"]])
    assert [(p.name, p.version, p.source_name) for p in packages] == [
        ("curl", "7.74.0-1.3+deb11u7", "curl"),
        ("xserver-xorg-core", "2:1.20.11-1+deb11u5", "xorg-server"),
    ]
    assert counts[fleet["web"]] == HostCounts(2, 2) and counts[fleet["dev"]] == (1, 0)
    assert only_dev == {fleet["dev"]: HostCounts(1, 0)}
