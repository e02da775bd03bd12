"""Set-based SQL shared by ingest and re-match: upserts that ignore duplicates, and finding sync.

`sync_findings` makes the findings table agree with ``host_packages`` x ``package_vulns`` in four
statements (close, reopen, refresh, insert) for one host or the whole fleet, never looping over hosts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rampart.store.models import Base, FindingRow, HostPackage, PackageVuln
from rampart.store.types import UTCDateTime

if TYPE_CHECKING:
    from rampart.fleet.judge import VerdictDelta

CHUNK = 5000
_FLEET_LOCK = 0x72616D70  # "ramp"
T = TypeVar("T")
_ADVISORY_FIELDS = ("severity", "fixed_versions", "aliases", "summary")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size`` (keeps IN lists under every driver's limit)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_duplicates(session: Session, model: type[Base]) -> Any:
    """An INSERT for ``model`` that skips rows whose unique key already exists (both databases)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()


def rowcount(session: Session, statement: Executable, params: dict[str, Any] | None = None) -> int:
    """Execute an UPDATE or DELETE and return how many rows it touched (INSERTs count RETURNING rows instead)."""
    result = cast(CursorResult[Any], session.execute(statement, params or {}))
    return max(result.rowcount, 0)


def sync_findings(session: Session, now: datetime, host_id: str | None = None) -> tuple[int, int]:
    """Close, reopen, refresh and open findings of one host (or all); returns (opened, closed)."""
    when = bindparam("now", now, type_=UTCDateTime())
    closed = rowcount(session, _close(when, host_id))
    reopened = rowcount(session, _refresh(when, host_id, "fixed"))
    rowcount(session, _refresh(when, host_id, "open"))
    inserted = len(session.execute(_insert(session, when, host_id)).all())
    return reopened + inserted, closed


def lock_fleet(session: Session, exclusive: bool) -> None:
    """PostgreSQL: ingests share, a re-match holds alone, one transaction-scoped advisory lock.

    SQLite needs nothing: its writers are serialised by the database lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(select(getattr(func, function)(_FLEET_LOCK)))


def refresh_statistics(session: Session) -> None:
    """PostgreSQL: refresh planner statistics of the fleet tables, so set-based statements plan well
    right after large changes (a stale estimate of one row turns a join into a nested-loop crawl)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE package_vulns, host_packages, findings"))


def apply_delta(session: Session, delta: VerdictDelta, now: datetime) -> tuple[int, int]:
    """Bring findings of every host in line with changed verdicts only; returns (opened, closed).

    Verdicts written by this re-match carry ``delta.mark`` in ``package_vulns.mark``, so every
    statement joins on that column instead of shipping lists of pairs.
    """
    when = bindparam("now", now, type_=UTCDateTime())
    closed = opened = 0
    for part in chunks(sorted({package_id for package_id, _ in delta.removed})):
        closed += rowcount(session, _close_gone(when, part))
    if delta.added or delta.changed:
        marked = and_(PackageVuln.mark == delta.mark, PackageVuln.package_id == FindingRow.package_id)
        rowcount(session, _refresh(when, None, "open", marked, touch=False))
        opened += rowcount(session, _refresh(when, None, "fixed", marked))
        opened += len(session.execute(_insert(session, when, None, PackageVuln.mark == delta.mark)).all())
    return opened, closed


def _close_gone(when: Any, package_ids: Sequence[int]) -> Executable:
    """Close open findings of these packages whose vulnerability has no verdict any more."""
    verdict = exists(
        select(1).where(
            PackageVuln.package_id == FindingRow.package_id,
            PackageVuln.vulnerability_id == FindingRow.vulnerability_id,
        )
    )
    return (
        update(FindingRow)
        .where(FindingRow.status == "open", FindingRow.package_id.in_(package_ids), ~verdict)
        .values(status="fixed", fixed_at=when)
        .execution_options(synchronize_session=False)
    )


def _present() -> ColumnElement[bool]:
    """The finding's package is installed on its host and still has its vulnerability."""
    return exists(
        select(1)
        .select_from(HostPackage)
        .join(PackageVuln, PackageVuln.package_id == HostPackage.package_id)
        .where(
            HostPackage.host_id == FindingRow.host_id,
            HostPackage.package_id == FindingRow.package_id,
            PackageVuln.vulnerability_id == FindingRow.vulnerability_id,
        )
    )


def _for_host(host_id: str | None, column: Any) -> ColumnElement[bool]:
    return literal(True) if host_id is None else column == host_id


def _close(when: Any, host_id: str | None) -> Executable:
    return (
        update(FindingRow)
        .where(FindingRow.status == "open", _for_host(host_id, FindingRow.host_id), ~_present())
        .values(status="fixed", fixed_at=when)
        .execution_options(synchronize_session=False)
    )


def _refresh(
    when: Any, host_id: str | None, status: str, extra: ColumnElement[bool] | None = None, touch: bool = True
) -> Executable:
    """Mark present findings with ``status`` open (and seen now, if ``touch``), copying the advisory data."""
    matched = and_(
        literal(True) if extra is None else extra,
        PackageVuln.package_id == FindingRow.package_id,
        PackageVuln.vulnerability_id == FindingRow.vulnerability_id,
        FindingRow.status == status,
        _for_host(host_id, FindingRow.host_id),
        exists(
            select(1).where(
                HostPackage.host_id == FindingRow.host_id, HostPackage.package_id == FindingRow.package_id
            )
        ),
    )
    values = {name: getattr(PackageVuln, name) for name in _ADVISORY_FIELDS}
    statement = (
        update(FindingRow).where(matched).values(status="open", fixed_at=None, last_seen_at=when, **values)
    )
    return statement.execution_options(synchronize_session=False)


def _insert(
    session: Session, when: Any, host_id: str | None, extra: ColumnElement[bool] | None = None
) -> Executable:
    known = exists(
        select(1).where(
            FindingRow.host_id == HostPackage.host_id,
            FindingRow.package_id == HostPackage.package_id,
            FindingRow.vulnerability_id == PackageVuln.vulnerability_id,
        )
    )
    rows = (
        select(
            HostPackage.host_id,
            HostPackage.package_id,
            PackageVuln.vulnerability_id,
            *(getattr(PackageVuln, name) for name in _ADVISORY_FIELDS),
            literal("open"),
            when,
            when,
        )
        .join(PackageVuln, PackageVuln.package_id == HostPackage.package_id)
        .where(_for_host(host_id, HostPackage.host_id), ~known, literal(True) if extra is None else extra)
    )
    columns = [
        "host_id",
        "package_id",
        "vulnerability_id",
        *_ADVISORY_FIELDS,
        "status",
        "first_seen_at",
        "last_seen_at",
    ]
    statement: Executable = (
        insert_ignoring_duplicates(session, FindingRow)
        .from_select(columns, rows)
        .returning(FindingRow.host_id)
    )
    return statement
