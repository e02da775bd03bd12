"""Re-matching the whole fleet after the advisory database changed.

Every distinct package is judged once with the matcher; findings are then opened, refreshed and
closed for all hosts at once with set-based SQL (see `rampart.fleet.sql`). The build id matched
is recorded in ``fleet_state`` so ingest knows which verdicts are current.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rampart.fleet.judge import judge, store_verdicts
from rampart.fleet.sql import apply_delta, lock_fleet, refresh_statistics, sync_findings
from rampart.match.source import AdvisorySource
from rampart.store.engine import SessionFactory, write_session
from rampart.store.models import Host, PackageRow
from rampart.store.state import ADVISORY_BUILD, get_state, set_state


@dataclass(frozen=True)
class RematchOutcome:
    """Hosts and distinct packages covered, findings opened and closed, wall time in seconds."""

    hosts: int
    packages: int
    opened: int
    closed: int
    seconds: float


def rematch_fleet(
    session_factory: SessionFactory, source: AdvisorySource, build_id: str, now: datetime, full: bool = False
) -> RematchOutcome:
    """Judge every stored package against ``source`` and bring every host's findings up to date.

    Findings change only for verdicts that changed; ``full`` re-derives every finding of the fleet
    instead (slower; repairs anything out of step).
    """
    started = time.perf_counter()
    with write_session(session_factory) as session:
        lock_fleet(session, exclusive=True)
        rows = list(session.scalars(select(PackageRow)))
        delta = store_verdicts(session, [row.id for row in rows], judge(rows, source), build_id)
        refresh_statistics(session)
        opened, closed = sync_findings(session, now) if full else apply_delta(session, delta, now)
        set_state(session, ADVISORY_BUILD, build_id)
        hosts = _count_hosts(session)
    return RematchOutcome(hosts, len(rows), opened, closed, round(time.perf_counter() - started, 3))


def _count_hosts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Host).where(Host.revoked_at.is_(None))) or 0


def last_build_id(session: Session) -> str | None:
    """The advisory build the fleet was last re-matched with, or None before the first re-match."""
    return get_state(session, ADVISORY_BUILD)
