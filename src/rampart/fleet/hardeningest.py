"""Storing one host's hardening run: idempotent on the result id, the host's rule statuses kept in step.

Every upload becomes a run row (``harden_runs``: host, profile, start, score, counts), so a host's runs are
its score over time. The newest run of a host and profile also sets ``harden_results``, the latest status of
each of its rules: a rule seen for the first time starts with no previous status; a rule whose status differs
from the stored one keeps the old status as ``previous_status`` and the run's start as ``changed_at``; a rule
the run no longer reports (dropped from the profile) is removed. A run older than the newest one stored for
the host and profile is kept as history but changes no status; so is a run the agent could not make (an
error: unknown profile, rules that do not load). The host row is locked, so two uploads apply in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from rampart.errors import InventoryError
from rampart.fleet.hardenresult import HardenResult, HardenRuleResult
from rampart.fleet.sql import chunks, claim_upload
from rampart.store.engine import take_write_lock
from rampart.store.models import HardenResultRow, HardenRunRow, Host

RESULT_KIND = "harden"


@dataclass(frozen=True)
class HardenOutcome:
    """Whether the run was new, whether it set the rule statuses, and how many rules changed status."""

    stored: bool
    applied: bool = False
    new: int = 0
    changed: int = 0
    removed: int = 0
    error: str | None = None


def ingest_harden(session: Session, host_id: str, result: HardenResult, now: datetime) -> HardenOutcome:
    """Store ``result`` for ``host_id`` in the caller's transaction (the caller commits).

    On SQLite call it first thing in a transaction (or in a `write_session`): it takes the write lock.
    """
    take_write_lock(session)
    if session.get(Host, host_id, with_for_update=True) is None:
        raise InventoryError(f"unknown host {host_id[:64]!r}")
    if not claim_upload(session, host_id, RESULT_KIND, result, now):
        return HardenOutcome(stored=False)
    newest = _newest_start(session, host_id, result.profile)
    session.add(_run_row(host_id, result, now))
    session.flush()
    if result.error is not None:
        return HardenOutcome(stored=True, error=result.error)
    if newest is not None and result.started < newest:
        return HardenOutcome(stored=True)  # late and older: history only
    new, changed, removed = sync_results(session, host_id, result)
    session.flush()
    return HardenOutcome(stored=True, applied=True, new=new, changed=changed, removed=removed)


def _newest_start(session: Session, host_id: str, profile: str) -> datetime | None:
    """The start of the newest successful run of this host and profile stored so far."""
    query = select(func.max(HardenRunRow.started)).where(
        HardenRunRow.host_id == host_id, HardenRunRow.profile == profile, HardenRunRow.error.is_(None)
    )
    newest: datetime | None = session.scalar(query)
    return newest


def _run_row(host_id: str, result: HardenResult, now: datetime) -> HardenRunRow:
    return HardenRunRow(
        id=result.id,
        host_id=host_id,
        profile=result.profile,
        profile_title=result.profile_title,
        benchmark=result.benchmark,
        target_kind=result.target_kind,
        job_id=result.job_id,
        started=result.started,
        received_at=now,
        duration_seconds=result.duration_seconds,
        score=result.score,
        passed=result.count("pass"),
        failed=result.count("fail"),
        na=result.count("na"),
        errors=result.count("error"),
        manual=result.count("manual"),
        error=result.error,
    )


def sync_results(session: Session, host_id: str, result: HardenResult) -> tuple[int, int, int]:
    """Make the host's rule rows for the run's profile agree with ``result``; (new, changed, removed)."""
    key = (HardenResultRow.host_id == host_id, HardenResultRow.profile == result.profile)
    query = select(HardenResultRow.rule, HardenResultRow.status).where(*key)
    stored: dict[str, str] = {rule: status for rule, status in session.execute(query)}
    fresh: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    changed = 0
    for rule in result.results:
        values = {"host_id": host_id, "profile": result.profile, **_facts(rule, result)}
        before = stored.get(rule.rule)
        if before is None:
            fresh.append({**values, "previous_status": None, "changed_at": result.started})
        elif before != rule.status:
            seen.append({**values, "previous_status": before, "changed_at": result.started})
            changed += 1
        else:
            seen.append(values)
    gone = sorted(set(stored) - {rule.rule for rule in result.results})
    for batch in chunks(fresh, 500):
        session.execute(insert(HardenResultRow), list(batch))
    _update(session, [row for row in seen if "changed_at" in row])
    _update(session, [row for row in seen if "changed_at" not in row])
    for part in chunks(gone, 500):
        session.execute(delete(HardenResultRow).where(*key, HardenResultRow.rule.in_(part)))
    return len(fresh), changed, len(gone)


def _update(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk update by primary key; one statement shape per call."""
    for batch in chunks(rows, 500):
        session.execute(update(HardenResultRow), list(batch))


def _facts(rule: HardenRuleResult, result: HardenResult) -> dict[str, Any]:
    return {
        "rule": rule.rule,
        "title": rule.title,
        "section": rule.section,
        "cis": list(rule.cis),
        "severity": rule.severity,
        "status": rule.status,
        "evidence": list(rule.evidence),
        "reason": rule.reason,
        "run_id": result.id,
        "checked_at": result.started,
    }
