"""Ingesting inventories: idempotency (also under concurrency), upgrades closing and opening findings."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rampart.errors import InventoryError
from rampart.fleet.ingest import IngestOutcome, ingest_inventory
from rampart.fleet.inventory import Inventory, build_inventory, parse_inventory
from rampart.fleet.queries import FindingFilter, host_package_rows, list_findings
from rampart.model import OsRelease, Package
from rampart.store.engine import write_session
from rampart.store.models import FindingRow, HostPackage, PackageRow, Result

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def deb(name: str, version: str, source: str | None = None) -> Package:
    return Package(name, version, "Debian:11", "/var/lib/dpkg/status", "dpkg", source or name, version)


def inventory(packages: list[Package], collected_at: datetime = T0) -> Inventory:
    os_release = OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)")
    return parse_inventory(
        build_inventory(packages, os_release, [], [], str(uuid.uuid4()), None, collected_at)
    )


ALL = ("DSA-5343-1", "DSA-5321-1", "DSA-5380-1")
SUDO_OLD = deb("sudo", "1.9.5p2-3")
SUDO_NEW = deb("sudo", "1.9.5p2-3+deb11u1")
XORG = deb("xserver-xorg-core", "2:1.20.11-1+deb11u5", "xorg-server")
CURL = deb("curl", "7.74.0-1.3+deb11u7")


def ingest(
    sessions: sessionmaker[Session], host: str, inv: Inventory, source: Any, at: Any = T0
) -> IngestOutcome:
    with write_session(sessions) as session:
        return ingest_inventory(session, host, inv, source, at)


def findings(sessions: sessionmaker[Session], status: str = "all") -> dict[tuple[str, str], Any]:
    with sessions() as session:
        _, rows = list_findings(session, FindingFilter(status=status), limit=1000)  # type: ignore[arg-type]
    return {(r.package, r.vulnerability_id): r for r in rows}


def test_first_inventory_opens_findings(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    host = add_host("web-1")
    outcome = ingest(store_sessions, host, inventory([SUDO_OLD, XORG, CURL]), advisory_db(*ALL))
    found = findings(store_sessions)
    assert outcome.stored and outcome.packages == 3 and outcome.closed == 0
    assert outcome.opened == len(found) >= 2
    assert ("sudo", "CVE-2023-22809") in found and ("xserver-xorg-core", "CVE-2023-1393") in found
    row = found[("sudo", "CVE-2023-22809")]
    assert (row.status, row.first_seen_at, row.last_seen_at, row.fixed_at) == ("open", T0, T0, None)
    assert row.first_seen_at.tzinfo is not None and row.fixed_versions == ("1.9.5p2-3+deb11u1",)
    with store_sessions() as session:
        assert [p.name for p in host_package_rows(session, host)] == ["curl", "sudo", "xserver-xorg-core"]


def test_same_result_twice_changes_nothing(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    host, source = add_host("web-1"), advisory_db(*ALL)
    inv = inventory([SUDO_OLD, XORG])
    first = ingest(store_sessions, host, inv, source)
    before = findings(store_sessions)
    again = ingest(store_sessions, host, inv, source, T0 + timedelta(hours=1))
    assert first.stored and again == IngestOutcome(stored=False)
    assert findings(store_sessions) == before
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Result)) == 1


def test_concurrent_duplicates_store_once(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    host, source = add_host("web-1"), advisory_db(*ALL)
    inv = inventory([SUDO_OLD, XORG, CURL])
    barrier, outcomes, errors = threading.Barrier(2), [], []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(ingest(store_sessions, host, inv, source))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(o.stored for o in outcomes) == [False, True]
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(HostPackage)) == 3
        assert session.scalar(select(func.count()).select_from(FindingRow)) == len(findings(store_sessions))


def test_upgrade_closes_old_finding_and_reinstall_reopens(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    host, source = add_host("web-1"), advisory_db(*ALL)
    t1, t2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    ingest(store_sessions, host, inventory([SUDO_OLD, XORG], T0), source, T0)
    upgraded = ingest(store_sessions, host, inventory([SUDO_NEW, XORG], t1), source, t1)
    assert (upgraded.opened, upgraded.closed) == (0, 1)
    closed = findings(store_sessions)[("sudo", "CVE-2023-22809")]
    assert (closed.status, closed.fixed_at, closed.version) == ("fixed", t1, "1.9.5p2-3")
    assert findings(store_sessions)[("xserver-xorg-core", "CVE-2023-1393")].last_seen_at == t1
    back = ingest(store_sessions, host, inventory([SUDO_OLD, XORG], t2), source, t2)
    assert (back.opened, back.closed) == (1, 0)
    reopened = findings(store_sessions)[("sudo", "CVE-2023-22809")]
    assert (reopened.status, reopened.first_seen_at, reopened.last_seen_at, reopened.fixed_at) == (
        "open",
        T0,
        t2,
        None,
    )


def test_late_older_inventory_is_kept_but_not_applied(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    host, source = add_host("web-1"), advisory_db(*ALL)
    ingest(store_sessions, host, inventory([SUDO_NEW], T0 + timedelta(days=1)), source)
    late = ingest(store_sessions, host, inventory([SUDO_OLD], T0), source)
    assert late == IngestOutcome(stored=True)
    with store_sessions() as session:
        assert [p.version for p in host_package_rows(session, host)] == ["1.9.5p2-3+deb11u1"]


def test_shared_packages_are_judged_once(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any], add_host: Callable[..., str]
) -> None:
    source = advisory_db(*ALL)
    calls: list[tuple[str, str]] = []

    class Counting:
        def advisories_for(self, ecosystem: str, name: str) -> Any:
            calls.append((ecosystem, name))
            return source.advisories_for(ecosystem, name)

    for name in ("a", "b", "c"):
        ingest(store_sessions, add_host(name), inventory([SUDO_OLD, XORG]), Counting())
    assert sorted(calls) == [("Debian:11", "sudo"), ("Debian:11", "xorg-server")]
    with store_sessions() as session:
        assert session.scalar(select(func.count()).select_from(PackageRow)) == 2
        total, _ = list_findings(session, FindingFilter(package="sudo"))
    assert total == 3


def test_unknown_host_is_refused(
    store_sessions: sessionmaker[Session], advisory_db: Callable[..., Any]
) -> None:
    with pytest.raises(InventoryError, match="unknown host"):
        ingest(store_sessions, "h-0000000000000000", inventory([SUDO_OLD]), advisory_db(*ALL))
