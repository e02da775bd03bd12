"""Reading the fleet's hardening: per-host scores, fleet-wide failing rules, a host's runs and rule statuses.

Scores come from each host's newest run per profile (runs the agent could not make are shown with their
error, but never replace a score). Failing rules are counted per distinct host, worst severity first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from rampart.fleet.sql import chunks
from rampart.store.models import HardenResultRow, HardenRunRow, Host

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
STATUS_RANK = {"fail": 0, "error": 1, "manual": 2, "na": 3, "pass": 4}
MAX_HOSTNAMES = 20


@dataclass(frozen=True)
class HostScore:
    """A host under one profile: its newest run (None: never ran one) and its newest failed attempt, if later."""

    host: Host
    run: HardenRunRow | None
    failure: HardenRunRow | None = None


@dataclass(frozen=True)
class RuleCount:
    """One rule across the fleet: how many hosts have it in a status, and the first of their names."""

    rule: str
    title: str
    section: str
    severity: str
    cis: list[str]
    hosts: int
    hostnames: list[str]


def host_scores(session: Session, hosts: Sequence[Host], profile: str | None = None) -> list[HostScore]:
    """Each host's newest run per profile (hosts without any: one entry with no run), by hostname."""
    runs = _newest_runs(session, [h.id for h in hosts], profile, failed=False)
    failures = _newest_runs(session, [h.id for h in hosts], profile, failed=True)
    answer: list[HostScore] = []
    for host in sorted(hosts, key=lambda h: (h.hostname, h.id)):
        profiles = sorted({p for h, p in runs if h == host.id} | {p for h, p in failures if h == host.id})
        if not profiles:
            answer.append(HostScore(host, None))
        for name in profiles:
            run, failure = runs.get((host.id, name)), failures.get((host.id, name))
            later = failure if failure and (run is None or failure.started > run.started) else None
            answer.append(HostScore(host, run, later))
    return answer


def _newest_runs(
    session: Session, host_ids: Sequence[str], profile: str | None, *, failed: bool
) -> dict[tuple[str, str], HardenRunRow]:
    newest: dict[tuple[str, str], HardenRunRow] = {}
    for part in chunks(host_ids, 1000):
        conditions: list[Any] = [
            HardenRunRow.host_id.in_(part),
            HardenRunRow.error.is_not(None) if failed else HardenRunRow.error.is_(None),
        ]
        if profile is not None:
            conditions.append(HardenRunRow.profile == profile)
        latest = (
            select(HardenRunRow.host_id, HardenRunRow.profile, func.max(HardenRunRow.started).label("at"))
            .where(*conditions)
            .group_by(HardenRunRow.host_id, HardenRunRow.profile)
            .subquery()
        )
        joined = (
            select(HardenRunRow)
            .where(*conditions)
            .join(
                latest,
                (latest.c.host_id == HardenRunRow.host_id)
                & (latest.c.profile == HardenRunRow.profile)
                & (latest.c.at == HardenRunRow.started),
            )
            .order_by(HardenRunRow.id)
        )
        for row in session.scalars(joined):
            newest.setdefault((row.host_id, row.profile), row)
    return newest


def failing_rules(
    session: Session, host_ids: Sequence[str], status: str = "fail", profile: str | None = None
) -> list[RuleCount]:
    """Rules in ``status`` on any of the hosts, with how many hosts: worst severity, then most hosts first."""
    if not host_ids:
        return []
    conditions: list[Any] = [HardenResultRow.status == status, HardenResultRow.host_id.in_(sorted(host_ids))]
    if profile is not None:
        conditions.append(HardenResultRow.profile == profile)
    query = (
        select(
            HardenResultRow.rule,
            func.max(HardenResultRow.title),
            func.max(HardenResultRow.section),
            func.min(case(SEVERITY_RANK, value=HardenResultRow.severity, else_=5)),
            func.count(func.distinct(HardenResultRow.host_id)),
        )
        .where(*conditions)
        .group_by(HardenResultRow.rule)
    )
    rows = session.execute(query).all()
    names = _hostnames(session, conditions, [row[0] for row in rows])
    cis = _cis(session, conditions)
    rank_to_name = {rank: name for name, rank in SEVERITY_RANK.items()}
    counts = [
        RuleCount(
            rule,
            title,
            section,
            rank_to_name.get(rank, "info"),
            cis.get(rule, []),
            hosts,
            names.get(rule, []),
        )
        for rule, title, section, rank, hosts in rows
    ]
    return sorted(counts, key=lambda c: (SEVERITY_RANK.get(c.severity, 5), -c.hosts, c.rule))


def _hostnames(session: Session, conditions: list[Any], rules: Sequence[str]) -> dict[str, list[str]]:
    """The first `MAX_HOSTNAMES` hostnames (sorted) of the hosts each rule matches."""
    names: dict[str, set[str]] = {}
    for part in chunks(list(rules), 500):
        query = (
            select(HardenResultRow.rule, Host.hostname)
            .join(Host, Host.id == HardenResultRow.host_id)
            .where(*conditions, HardenResultRow.rule.in_(part))
        )
        for rule, hostname in session.execute(query):
            names.setdefault(rule, set()).add(hostname)
    return {rule: sorted(found)[:MAX_HOSTNAMES] for rule, found in names.items()}


def _cis(session: Session, conditions: list[Any]) -> dict[str, list[str]]:
    """Each rule's benchmark ids (the first stored row's; a rule carries the same ids everywhere)."""
    found: dict[str, list[str]] = {}
    for rule, cis in session.execute(select(HardenResultRow.rule, HardenResultRow.cis).where(*conditions)):
        found.setdefault(rule, list(cis))
    return found


def host_runs(
    session: Session, host_id: str, profile: str | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[HardenRunRow]]:
    """The host's runs, newest first: the total and one page."""
    conditions: list[Any] = [HardenRunRow.host_id == host_id]
    if profile is not None:
        conditions.append(HardenRunRow.profile == profile)
    total = session.scalar(select(func.count()).select_from(HardenRunRow).where(*conditions)) or 0
    query = select(HardenRunRow).where(*conditions)
    page = query.order_by(HardenRunRow.started.desc(), HardenRunRow.id).limit(limit).offset(offset)
    return total, list(session.scalars(page))


def host_results(
    session: Session,
    host_id: str,
    profile: str | None = None,
    status: str | None = None,
    *,
    changed: bool = False,
) -> list[HardenResultRow]:
    """The host's latest rule statuses: failing and severe first; with ``changed``, only rules whose
    status changed at least once (the transitions), most recent change first."""
    conditions: list[Any] = [HardenResultRow.host_id == host_id]
    if profile is not None:
        conditions.append(HardenResultRow.profile == profile)
    if status is not None:
        conditions.append(HardenResultRow.status == status)
    if changed:
        conditions.append(HardenResultRow.previous_status.is_not(None))
    query = select(HardenResultRow).where(*conditions)
    if changed:
        order: tuple[Any, ...] = (
            HardenResultRow.changed_at.desc(),
            HardenResultRow.profile,
            HardenResultRow.rule,
        )
    else:
        order = (
            HardenResultRow.profile,
            case(STATUS_RANK, value=HardenResultRow.status, else_=5),
            case(SEVERITY_RANK, value=HardenResultRow.severity, else_=5),
            HardenResultRow.rule,
        )
    return list(session.scalars(query.order_by(*order)))
