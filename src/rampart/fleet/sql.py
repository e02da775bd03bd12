"""Set-based SQL shared by ingest and re-match: upserts that ignore duplicates, and finding sync.

`sync_findings` makes a findings table agree with its package table x ``package_vulns`` in four
statements (close, reopen, refresh, insert) for one owner or all of a kind (hosts or images, see
`rampart.fleet.holdings`), never looping over owners.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

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

from rampart.fleet.holdings import HOSTS, Holdings
from rampart.store.models import Base, PackageVuln, Result
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


class Upload(Protocol):
    """What every agent upload carries for idempotency: its id, and the digest and size of its bytes."""

    @property
    def id(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def size(self) -> int: ...


def claim_upload(session: Session, host_id: str, kind: str, upload: Upload, now: datetime) -> bool:
    """Record an upload's id for its host; False when it was already recorded (a retry: apply nothing)."""
    row = {
        "id": upload.id,
        "host_id": host_id,
        "kind": kind,
        "received_at": now,
        "sha256": upload.sha256,
        "size": upload.size,
    }
    statement = insert_ignoring_duplicates(session, Result).values(row).returning(Result.id)
    return session.execute(statement).first() is not None


def rowcount(session: Session, statement: Executable, params: dict[str, Any] | None = None) -> int:
    """Execute an UPDATE or DELETE and return how many rows it touched (INSERTs count RETURNING rows instead)."""
    result = cast(CursorResult[Any], session.execute(statement, params or {}))
    return max(result.rowcount, 0)


def sync_findings(
    session: Session, now: datetime, owner: str | None = None, holdings: Holdings = HOSTS
) -> tuple[int, int]:
    """Close, reopen, refresh and open findings of one owner (or all of a kind); returns (opened, closed)."""
    when = bindparam("now", now, type_=UTCDateTime())
    closed = rowcount(session, _close(holdings, when, owner))
    reopened = rowcount(session, _refresh(holdings, when, owner, "fixed"))
    rowcount(session, _refresh(holdings, when, owner, "open"))
    inserted = len(session.execute(_insert(session, holdings, when, owner)).all())
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
        session.execute(
            text("ANALYZE package_vulns, host_packages, findings, image_packages, image_findings")
        )


def apply_delta(
    session: Session, delta: VerdictDelta, now: datetime, holdings: Holdings = HOSTS
) -> tuple[int, int]:
    """Bring findings of every owner of a kind in line with changed verdicts only; returns (opened, closed).

    Verdicts written by this re-match carry ``delta.mark`` in ``package_vulns.mark``, so every
    statement joins on that column instead of shipping lists of pairs.
    """
    when = bindparam("now", now, type_=UTCDateTime())
    found = holdings.findings
    closed = opened = 0
    for part in chunks(sorted({package_id for package_id, _ in delta.removed})):
        closed += rowcount(session, _close_gone(holdings, when, part))
    if delta.added or delta.changed:
        marked = and_(PackageVuln.mark == delta.mark, PackageVuln.package_id == found.package_id)
        rowcount(session, _refresh(holdings, when, None, "open", marked, touch=False))
        opened += rowcount(session, _refresh(holdings, when, None, "fixed", marked))
        opened += len(
            session.execute(_insert(session, holdings, when, None, PackageVuln.mark == delta.mark)).all()
        )
    return opened, closed


def _close_gone(holdings: Holdings, when: Any, package_ids: Sequence[int]) -> Executable:
    """Close open findings of these packages whose vulnerability has no verdict any more."""
    found = holdings.findings
    verdict = exists(
        select(1).where(
            PackageVuln.package_id == found.package_id,
            PackageVuln.vulnerability_id == found.vulnerability_id,
        )
    )
    return (
        update(found)
        .where(found.status == "open", found.package_id.in_(package_ids), ~verdict)
        .values(status="fixed", fixed_at=when)
        .execution_options(synchronize_session=False)
    )


def _present(holdings: Holdings) -> ColumnElement[bool]:
    """The finding's package is still held by its owner and still has its vulnerability."""
    held, found = holdings.packages, holdings.findings
    return exists(
        select(1)
        .select_from(held)
        .join(PackageVuln, PackageVuln.package_id == held.package_id)
        .where(
            holdings.package_owner() == holdings.finding_owner(),
            held.package_id == found.package_id,
            PackageVuln.vulnerability_id == found.vulnerability_id,
        )
    )


def _for_owner(owner: str | None, column: Any) -> ColumnElement[bool]:
    return literal(True) if owner is None else column == owner


def _close(holdings: Holdings, when: Any, owner: str | None) -> Executable:
    found = holdings.findings
    return (
        update(found)
        .where(found.status == "open", _for_owner(owner, holdings.finding_owner()), ~_present(holdings))
        .values(status="fixed", fixed_at=when)
        .execution_options(synchronize_session=False)
    )


def _refresh(
    holdings: Holdings,
    when: Any,
    owner: str | None,
    status: str,
    extra: ColumnElement[bool] | None = None,
    touch: bool = True,
) -> Executable:
    """Mark present findings with ``status`` open (and seen now, if ``touch``), copying the advisory data."""
    held, found = holdings.packages, holdings.findings
    matched = and_(
        literal(True) if extra is None else extra,
        PackageVuln.package_id == found.package_id,
        PackageVuln.vulnerability_id == found.vulnerability_id,
        found.status == status,
        _for_owner(owner, holdings.finding_owner()),
        exists(
            select(1).where(
                holdings.package_owner() == holdings.finding_owner(), held.package_id == found.package_id
            )
        ),
    )
    values = {name: getattr(PackageVuln, name) for name in _ADVISORY_FIELDS}
    seen = {"last_seen_at": when} if touch else {}
    statement = update(found).where(matched).values(status="open", fixed_at=None, **seen, **values)
    return statement.execution_options(synchronize_session=False)


def _insert(
    session: Session,
    holdings: Holdings,
    when: Any,
    owner: str | None,
    extra: ColumnElement[bool] | None = None,
) -> Executable:
    held, found = holdings.packages, holdings.findings
    known = exists(
        select(1).where(
            holdings.finding_owner() == holdings.package_owner(),
            found.package_id == held.package_id,
            found.vulnerability_id == PackageVuln.vulnerability_id,
        )
    )
    rows = (
        select(
            holdings.package_owner(),
            held.package_id,
            PackageVuln.vulnerability_id,
            *(getattr(PackageVuln, name) for name in _ADVISORY_FIELDS),
            literal("open"),
            when,
            when,
        )
        .join(PackageVuln, PackageVuln.package_id == held.package_id)
        .where(_for_owner(owner, holdings.package_owner()), ~known, literal(True) if extra is None else extra)
    )
    columns = [
        holdings.owner,
        "package_id",
        "vulnerability_id",
        *_ADVISORY_FIELDS,
        "status",
        "first_seen_at",
        "last_seen_at",
    ]
    statement: Executable = (
        insert_ignoring_duplicates(session, found)
        .from_select(columns, rows)
        .returning(holdings.finding_owner())
    )
    return statement
