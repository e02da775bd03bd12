"""Re-matching the whole fleet after the advisory database changed.

Every distinct package (of hosts and of registry images) is judged once with the matcher; findings
are then opened, refreshed and closed for all hosts and all images at once with set-based SQL (see
`rampart.fleet.sql`). The build id matched is recorded in ``fleet_state`` so ingest knows which
verdicts are current.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rampart.fleet.holdings import ALL_HOLDINGS
from rampart.fleet.judge import judge, store_verdicts
from rampart.fleet.sql import apply_delta, lock_fleet, refresh_statistics, sync_findings
from rampart.match.source import AdvisorySource
from rampart.store.engine import SessionFactory, write_session
from rampart.store.models import Host, ImageRow, PackageRow
from rampart.store.state import ADVISORY_BUILD, get_state, set_state


@dataclass(frozen=True)
class RematchOutcome:
    """Hosts and distinct packages covered, findings opened and closed, wall time in seconds, images covered."""

    hosts: int
    packages: int
    opened: int
    closed: int
    seconds: float
    images: int = 0


def rematch_fleet(
    session_factory: SessionFactory, source: AdvisorySource, build_id: str, now: datetime, full: bool = False
) -> RematchOutcome:
    """Judge every stored package against ``source`` and bring every host's and image's findings up to date.

    Findings change only for verdicts that changed; ``full`` re-derives every finding of the fleet
    instead (slower; repairs anything out of step).
    """
    started = time.perf_counter()
    with write_session(session_factory) as session:
        lock_fleet(session, exclusive=True)
        rows = list(session.scalars(select(PackageRow)))
        delta = store_verdicts(session, [row.id for row in rows], judge(rows, source), build_id)
        refresh_statistics(session)
        opened = closed = 0
        for holdings in ALL_HOLDINGS:
            changed = (
                sync_findings(session, now, None, holdings)
                if full
                else apply_delta(session, delta, now, holdings)
            )
            opened, closed = opened + changed[0], closed + changed[1]
        set_state(session, ADVISORY_BUILD, build_id)
        hosts, images = _count_hosts(session), session.scalar(select(func.count()).select_from(ImageRow)) or 0
    seconds = round(time.perf_counter() - started, 3)
    return RematchOutcome(hosts, len(rows), opened, closed, seconds, images)


def _count_hosts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Host).where(Host.revoked_at.is_(None))) or 0


def last_build_id(session: Session) -> str | None:
    """The advisory build the fleet was last re-matched with, or None before the first re-match."""
    return get_state(session, ADVISORY_BUILD)
