"""Storing one host's inventory: idempotent on the result id, replaces the host's packages, updates its findings.

Only packages the fleet has not judged against the current advisory build are matched; everything
else reuses ``package_vulns``. The host row is locked for the transaction so two uploads of one host
apply one after the other; a duplicate result id (even from a concurrent session) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from rampart.errors import InventoryError
from rampart.fleet.holdings import HOSTS, Holdings
from rampart.fleet.inventory import Inventory
from rampart.fleet.judge import judge, store_verdicts
from rampart.fleet.sql import chunks, claim_upload, insert_ignoring_duplicates, lock_fleet, sync_findings
from rampart.match.source import AdvisorySource
from rampart.model import Package
from rampart.store.engine import take_write_lock
from rampart.store.models import Host, PackageRow
from rampart.store.state import ADVISORY_BUILD, get_state

PackageKey = tuple[str, str, str, str, str, str]
RESULT_KIND = "inventory"


@dataclass(frozen=True)
class IngestOutcome:
    """Whether the result was new, findings opened and closed, and how many distinct packages the host has."""

    stored: bool
    opened: int = 0
    closed: int = 0
    packages: int = 0


def ingest_inventory(
    session: Session, host_id: str, inventory: Inventory, source: AdvisorySource, now: datetime
) -> IngestOutcome:
    """Store ``inventory`` for ``host_id`` in the caller's transaction (the caller commits).

    On SQLite call it first thing in a transaction (or in a `write_session`): it takes the write lock.
    """
    take_write_lock(session)
    lock_fleet(session, exclusive=False)
    host = session.get(Host, host_id, with_for_update=True)
    if host is None:
        raise InventoryError(f"unknown host {host_id[:64]!r}")
    if not claim_upload(session, host_id, RESULT_KIND, inventory, now):
        return IngestOutcome(stored=False)
    if host.inventory_at is not None and inventory.collected_at < host.inventory_at:
        return IngestOutcome(stored=True)  # an older upload arriving late: kept as a result, not applied
    package_ids = replace_packages(session, HOSTS, host_id, inventory.packages)
    judge_new(session, package_ids, source)
    opened, closed = sync_findings(session, now, host_id)
    _update_host(host, inventory, now)
    session.flush()
    return IngestOutcome(True, opened, closed, len(package_ids))


def package_key(package: Package) -> PackageKey:
    """The distinct-package key as stored (``""`` for absent source fields)."""
    return (
        package.ecosystem,
        package.name,
        package.version,
        package.source_name or "",
        package.source_version or "",
        package.managed_by or "",
    )


def replace_packages(
    session: Session, holdings: Holdings, owner: str, packages: Sequence[Package]
) -> list[int]:
    """Make ``owner``'s package rows exactly ``packages`` (first of each distinct package); their ids."""
    firsts: dict[PackageKey, Package] = {}
    for package in packages:
        firsts.setdefault(package_key(package), package)
    ids = package_ids(session, list(firsts))
    session.execute(delete(holdings.packages).where(holdings.package_owner() == owner))
    rows = [holdings.row(owner, ids[key], package) for key, package in firsts.items()]
    for batch in chunks(rows):
        session.execute(insert(holdings.packages), list(batch))
    return sorted(set(ids.values()))


_KEY_COLUMNS = ("ecosystem", "name", "version", "source_name", "source_version", "managed_by")


def package_ids(session: Session, keys: Sequence[PackageKey]) -> dict[PackageKey, int]:
    """Ids of these distinct packages, adding the ones not stored yet."""
    # one global order, so concurrent uploads of overlapping new packages never wait on each other in a cycle
    rows = [dict(zip(_KEY_COLUMNS, key, strict=True)) for key in sorted(keys)]
    for batch in chunks(rows):
        session.execute(insert_ignoring_duplicates(session, PackageRow), list(batch))
    found: dict[PackageKey, int] = {}
    columns = tuple(getattr(PackageRow, c) for c in _KEY_COLUMNS)
    for part in chunks(keys, 1000):
        query = select(PackageRow.id, *columns).where(tuple_(*columns).in_(list(part)))
        found.update({tuple(row[1:]): row[0] for row in session.execute(query)})
    return found


def judge_new(session: Session, ids: Sequence[int], source: AdvisorySource) -> None:
    """Judge the packages among ``ids`` that no re-match with the current advisory build has judged."""
    build = get_state(session, ADVISORY_BUILD) or ""
    stale = or_(PackageRow.judged_build.is_(None), PackageRow.judged_build != build)
    rows: list[PackageRow] = []
    for part in chunks(ids):
        rows.extend(session.scalars(select(PackageRow).where(PackageRow.id.in_(part), stale)))
    if rows:
        store_verdicts(session, [row.id for row in rows], judge(rows, source), build)


def _update_host(host: Host, inventory: Inventory, now: datetime) -> None:
    host.inventory_at = inventory.collected_at
    if host.last_seen_at is None or host.last_seen_at < now:
        host.last_seen_at = now
    if inventory.os is not None:
        host.os_id, host.os_version = inventory.os.id[:64], inventory.os.version_id[:64]
        host.os_pretty = inventory.os.pretty_name
