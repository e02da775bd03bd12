"""Hardening on agents: per-host scores, fleet-wide failing rules, a host's runs and rule statuses, running now.

Agents upload runs over their link (result kind ``harden``, `rampart.server.results.store_harden`), always for
their own host. Reading needs ``harden.read``; asking an agent to run a profile now needs ``harden.request``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, StringConstraints
from starlette.concurrency import run_in_threadpool

from rampart.fleet import harden_queries
from rampart.server.deps import Authenticated, State, audit_write
from rampart.server.routes.hosts import load_host, visible_hosts
from rampart.server.schemas import ScanQueued, Strict
from rampart.store.models import HardenResultRow, HardenRunRow

router = APIRouter(tags=["harden"])

ProfileId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.+-]{0,79}$")]
RuleStatus = Literal["pass", "fail", "na", "error", "manual"]
ProfileQuery = Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9][a-z0-9_.+-]{0,79}$")]


class HardenRunOut(BaseModel):
    """One run of a host under a profile (``error``: the agent could not make it; counts are then 0)."""

    id: str
    profile: str
    profile_title: str
    benchmark: str
    target_kind: str
    job_id: str | None
    started: datetime
    received_at: datetime
    duration_seconds: float
    score: float
    passed: int
    failed: int
    na: int
    errors: int
    manual: int
    error: str | None


class HardenHostOut(BaseModel):
    """A host under one profile: its newest run (``run`` null: none yet) and a later failed attempt."""

    host_id: str
    hostname: str
    profile: str | None
    run: HardenRunOut | None
    last_error: HardenRunOut | None


class HardenRuleOut(BaseModel):
    """A rule across the visible fleet: how many hosts have it in the asked status, and which."""

    rule: str
    title: str
    section: str
    severity: str
    cis: list[str]
    hosts: int
    hostnames: list[str]


class HardenRunPage(BaseModel):
    total: int
    items: list[HardenRunOut]


class HardenResultOut(BaseModel):
    """A rule's latest status on a host under a profile, and when (from what) it last changed."""

    profile: str
    rule: str
    title: str
    section: str
    cis: list[str]
    severity: str
    status: str
    evidence: list[str]
    reason: str
    run_id: str
    checked_at: datetime
    previous_status: str | None
    changed_at: datetime


class HardenRequest(Strict):
    """Which shipped profile the agent should run (default: its own configured profile)."""

    profile: ProfileId | None = None


def _run_out(row: HardenRunRow | None) -> HardenRunOut | None:
    if row is None:
        return None
    return HardenRunOut.model_validate({name: getattr(row, name) for name in HardenRunOut.model_fields})


def _result_out(row: HardenResultRow) -> HardenResultOut:
    return HardenResultOut.model_validate({name: getattr(row, name) for name in HardenResultOut.model_fields})


@router.get("/harden/hosts", response_model=list[HardenHostOut])
def harden_hosts(caller: Authenticated, state: State, profile: ProfileQuery = None) -> list[HardenHostOut]:
    """Every host the caller may see with its newest score per profile (hosts without a run: listed empty)."""
    hosts = visible_hosts(state, caller, "harden.read")
    with state.reader() as session:
        return [_host_out(item) for item in harden_queries.host_scores(session, hosts, profile)]


def _host_out(item: harden_queries.HostScore) -> HardenHostOut:
    shown = item.run or item.failure
    return HardenHostOut(
        host_id=item.host.id,
        hostname=item.host.hostname,
        profile=shown.profile if shown is not None else None,
        run=_run_out(item.run),
        last_error=_run_out(item.failure),
    )


@router.get("/harden/rules", response_model=list[HardenRuleOut])
def harden_rules(
    caller: Authenticated,
    state: State,
    status_filter: Annotated[RuleStatus, Query(alias="status")] = "fail",
    profile: ProfileQuery = None,
) -> list[HardenRuleOut]:
    """Rules in a status (default: failing) across the hosts the caller may see, with host counts."""
    hosts = visible_hosts(state, caller, "harden.read")
    with state.reader() as session:
        counts = harden_queries.failing_rules(session, [h.id for h in hosts], status_filter, profile)
    return [HardenRuleOut.model_validate(count, from_attributes=True) for count in counts]


@router.get("/harden/hosts/{host_ref}/runs", response_model=HardenRunPage)
def harden_runs(
    host_ref: str,
    caller: Authenticated,
    state: State,
    profile: ProfileQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> HardenRunPage:
    """The host's runs, newest first: its score over time."""
    host = load_host(state, caller, host_ref, "harden.read")
    with state.reader() as session:
        total, rows = harden_queries.host_runs(session, host.id, profile, limit=limit, offset=offset)
        items = [run for run in map(_run_out, rows) if run is not None]
    return HardenRunPage(total=total, items=items)


@router.get("/harden/hosts/{host_ref}/results", response_model=list[HardenResultOut])
def harden_results(
    host_ref: str,
    caller: Authenticated,
    state: State,
    profile: ProfileQuery = None,
    status_filter: Annotated[RuleStatus | None, Query(alias="status")] = None,
    changed: bool = False,
) -> list[HardenResultOut]:
    """The host's latest rule statuses (failing first); ``changed=true``: only rules whose status changed,
    with the status before, most recent change first."""
    host = load_host(state, caller, host_ref, "harden.read")
    with state.reader() as session:
        rows = harden_queries.host_results(session, host.id, profile, status_filter, changed=changed)
        return [_result_out(row) for row in rows]


@router.post(
    "/harden/hosts/{host_ref}/request", response_model=ScanQueued, status_code=status.HTTP_202_ACCEPTED
)
async def request_run(
    host_ref: str, caller: Authenticated, state: State, body: HardenRequest | None = None
) -> ScanQueued:
    """Ask the host's agent to run a hardening profile now (its configured one unless ``profile`` names one)."""
    host = await run_in_threadpool(load_host, state, caller, host_ref, "harden.request")
    if host.revoked_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the host is revoked")
    profile = body.profile if body is not None else None
    params = {"profile": profile} if profile else {}
    job_id = await state.agents.request_job(host.id, "harden", params)
    if job_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the host's agent is not connected; it runs on its own schedule"
        )
    details = {"job": job_id, "profile": profile or ""}
    await run_in_threadpool(audit_write, state, caller, "harden.request", f"host:{host.id}", details)
    return ScanQueued(job_id=job_id)
