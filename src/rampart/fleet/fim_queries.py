"""Reading and accepting hosts' file integrity changes: per-host status, filtered pages, acceptance.

Lists put the changes that need review first: open before accepted before resolved, and unexplained and
package-modified ones before package updates and generated files; then by hostname and path.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from rampart.fleet.fimingest import ACCEPTED, OPEN, RESOLVED
from rampart.fleet.sql import chunks
from rampart.store.engine import take_write_lock
from rampart.store.models import FimChangeRow, FimStatusRow, Host

CAUSE_ORDER = {"unexplained": 0, "package-modified": 0, "package": 1, "generated": 2}
STATUS_ORDER = {OPEN: 0, ACCEPTED: 1, RESOLVED: 2}


@dataclass(frozen=True)
class ChangeFilter:
    """What ``GET /fim/changes`` asks for; ``host_ids`` are the hosts the caller may see."""

    host_ids: frozenset[str]
    host: str | None = None
    status: str = OPEN
    cause: str | None = None


@dataclass(frozen=True)
class HostFim:
    """A host's latest check (``status`` None when it never reported one) and its changes by cause."""

    host: Host
    status: FimStatusRow | None
    open: dict[str, int]
    accepted: int


def host_states(session: Session, hosts: Sequence[Host]) -> list[HostFim]:
    """Each host's status row, open changes by cause and accepted count."""
    ids = [h.id for h in hosts]
    statuses: dict[str, FimStatusRow] = {}
    counts: dict[str, dict[str, int]] = {}
    accepted: dict[str, int] = {}
    for part in chunks(ids, 1000):
        statuses.update({s.host_id: s for s in session.scalars(select(FimStatusRow).where(_in(part)))})
        query = (
            select(FimChangeRow.host_id, FimChangeRow.status, FimChangeRow.cause, func.count())
            .where(FimChangeRow.host_id.in_(part), FimChangeRow.status.in_((OPEN, ACCEPTED)))
            .group_by(FimChangeRow.host_id, FimChangeRow.status, FimChangeRow.cause)
        )
        for host_id, status, cause, count in session.execute(query):
            if status == OPEN:
                counts.setdefault(host_id, {})[cause] = count
            else:
                accepted[host_id] = accepted.get(host_id, 0) + count
    return [HostFim(h, statuses.get(h.id), counts.get(h.id, {}), accepted.get(h.id, 0)) for h in hosts]


def _in(ids: Sequence[str]) -> Any:
    return FimStatusRow.host_id.in_(ids)


def list_changes(
    session: Session, query: ChangeFilter, *, limit: int, offset: int
) -> tuple[int, list[tuple[FimChangeRow, str]]]:
    """The total matching and one page of (change, hostname), worst first."""
    if not query.host_ids:
        return 0, []
    base = select(FimChangeRow, Host.hostname).join(Host, Host.id == FimChangeRow.host_id)
    base = base.where(*_conditions(query))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    status_rank = case(STATUS_ORDER, value=FimChangeRow.status, else_=0)
    cause_rank = case(CAUSE_ORDER, value=FimChangeRow.cause, else_=0)
    order = (status_rank, cause_rank, Host.hostname, FimChangeRow.host_id, FimChangeRow.path)
    page = base.order_by(*order).limit(limit)
    rows = session.execute(page.offset(offset)).all()
    return total, [(row[0], row[1]) for row in rows]


def _conditions(query: ChangeFilter) -> list[Any]:
    conditions: list[Any] = [FimChangeRow.host_id.in_(sorted(query.host_ids))]
    if query.host is not None:
        conditions.append(or_(Host.id == query.host, Host.hostname == query.host))
    if query.status != "all":
        conditions.append(FimChangeRow.status == query.status)
    if query.cause is not None:
        conditions.append(FimChangeRow.cause == query.cause)
    return conditions


def accept_changes(
    session: Session, host_id: str, keys: Collection[str] | None, by: str, reason: str, now: datetime
) -> tuple[list[FimChangeRow], list[str]]:
    """Accept open changes of the host (``keys``, or every open one for None) in the state each is in now.

    Returns the accepted rows, or nothing and the keys that are not open changes (then nothing changed).
    Call it first thing in a transaction: it locks the host, so no upload slips in between reading a
    change's state and accepting it.
    """
    take_write_lock(session)
    session.get(Host, host_id, with_for_update=True)
    found, missing = _open_keys(session, host_id, keys)
    if missing:
        return [], missing
    for part in chunks(found, 500):
        session.execute(
            update(FimChangeRow)
            .where(FimChangeRow.host_id == host_id, FimChangeRow.path_sha256.in_(part))
            .values(
                status=ACCEPTED,
                accepted_by=by,
                accepted_at=now,
                accepted_reason=reason,
                accepted_fingerprint=FimChangeRow.fingerprint,
            )
            .execution_options(synchronize_session=False)
        )
    rows: list[FimChangeRow] = []
    for part in chunks(found, 500):
        query = select(FimChangeRow).where(
            FimChangeRow.host_id == host_id, FimChangeRow.path_sha256.in_(part)
        )
        rows.extend(session.scalars(query.execution_options(populate_existing=True)))
    return sorted(rows, key=lambda r: r.path), []


def _open_keys(session: Session, host_id: str, keys: Collection[str] | None) -> tuple[list[str], list[str]]:
    """Of ``keys`` (None: every open change of the host), those that are open changes and those that are not."""
    query = select(FimChangeRow.path_sha256).where(
        FimChangeRow.host_id == host_id, FimChangeRow.status == OPEN
    )
    if keys is None:
        return sorted(session.scalars(query)), []
    found: set[str] = set()
    for part in chunks(sorted(set(keys)), 500):
        found.update(session.scalars(query.where(FimChangeRow.path_sha256.in_(part))))
    return sorted(found), sorted(set(keys) - found)
