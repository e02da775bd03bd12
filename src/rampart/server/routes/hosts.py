"""Hosts: the fleet list with status, one host, its packages, revocation and on-demand scans."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from starlette.concurrency import run_in_threadpool

from rampart.fleet import queries
from rampart.policy.authorizer import Resource
from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, Caller, State, audit_write, authorize
from rampart.server.schemas import HostOut, HostStatus, OsOut, PackageOut, ScanQueued
from rampart.server.state import ServerState
from rampart.store import hosts as host_store

router = APIRouter(prefix="/hosts", tags=["hosts"])
NO_SUCH_HOST = "no such host"
TagFilter = Annotated[
    str | None, Query(max_length=200, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}=[\x21-\x7e]{1,128}$")
]
StatusFilter = Annotated[str | None, Query(pattern=r"^(online|offline|stale|revoked|new)$")]


def host_resource(host: Any) -> Resource:
    """The Cedar resource for a host row."""
    return Resource("Host", host.id, dict(host.tags))


def host_status(host: Any, connected: bool, now: datetime, stale_after: timedelta) -> HostStatus:
    """revoked, online (link up), new (never seen), stale (silent too long) or offline."""
    if host.revoked_at is not None:
        return "revoked"
    if connected:
        return "online"
    if host.last_seen_at is None:
        return "new"
    return "stale" if now - host.last_seen_at > stale_after else "offline"


def _out(state: ServerState, host: Any, counts: tuple[int, int]) -> HostOut:
    connected = state.agents.is_connected(host.id)
    state_name = host_status(host, connected, state.clock(), state.config.stale_after)
    return HostOut(
        id=host.id,
        hostname=host.hostname,
        os=OsOut(id=host.os_id, version=host.os_version, pretty=host.os_pretty),
        agent_version=host.agent_version,
        tags=dict(host.tags),
        enrolled_at=host.enrolled_at,
        last_seen_at=host.last_seen_at,
        revoked_at=host.revoked_at,
        connected=connected,
        status=state_name,
        packages=counts[0],
        open_findings=counts[1],
    )


def visible_hosts(state: ServerState, caller: Caller, action: str = "host.read") -> list[Any]:
    """The hosts the caller may act on; an empty fleet-wide answer is not an error."""
    authorize_scope_only(state, caller, action)
    with state.reader() as session:
        hosts = host_store.list_hosts(session)
    allowed = {
        r.id
        for r in state.authorizer.filter_allowed(caller.principal, action, [host_resource(h) for h in hosts])
    }
    return [h for h in hosts if h.id in allowed]


def authorize_scope_only(state: ServerState, caller: Caller, action: str) -> None:
    """A list call checks the token scope and that the caller may act on the fleet at all."""
    authorize(state, caller, action, FLEET)


@router.get("", response_model=list[HostOut])
def list_hosts(
    caller: Authenticated,
    state: State,
    tag: TagFilter = None,
    stale: bool | None = None,
    status_filter: Annotated[StatusFilter, Query(alias="status")] = None,
) -> list[HostOut]:
    """The hosts the caller may see, with OS, agent version, last seen, tags and status."""
    hosts = visible_hosts(state, caller)
    if tag:
        key, _, value = tag.partition("=")
        hosts = [h for h in hosts if h.tags.get(key) == value]
    with state.reader() as session:
        counts = queries.host_counts(session, [h.id for h in hosts])
    rows = [_out(state, h, counts.get(h.id, (0, 0))) for h in hosts]
    if stale is not None:
        rows = [r for r in rows if (r.status == "stale") == stale]
    return [r for r in rows if status_filter is None or r.status == status_filter]


def load_host(state: ServerState, caller: Caller, host_ref: str, action: str) -> Any:
    """The host named by id or hostname, once the caller is allowed `action` on it.

    A host the caller may not even read answers 404 like a missing one, so ids cannot be probed.
    """
    with state.reader() as session:
        host = host_store.find_host(session, host_ref[:253])
    if host is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_HOST)
    authorize(state, caller, "host.read", host_resource(host), hide=NO_SUCH_HOST)
    if action != "host.read":
        authorize(state, caller, action, host_resource(host))
    return host


@router.get("/{host_ref}", response_model=HostOut)
def get_host(host_ref: str, caller: Authenticated, state: State) -> HostOut:
    """One host by id or hostname."""
    host = load_host(state, caller, host_ref, "host.read")
    with state.reader() as session:
        counts = queries.host_counts(session, [host.id])
    return _out(state, host, counts.get(host.id, (0, 0)))


@router.get("/{host_ref}/packages", response_model=list[PackageOut])
def host_packages(host_ref: str, caller: Authenticated, state: State) -> list[PackageOut]:
    """The host's last reported inventory."""
    host = load_host(state, caller, host_ref, "host.read")
    with state.reader() as session:
        return [
            PackageOut(ecosystem=p.ecosystem, name=p.name, version=p.version, source_name=p.source_name)
            for p in queries.host_package_rows(session, host.id)
        ]


@router.post("/{host_ref}/revoke", response_model=HostOut)
async def revoke_host(host_ref: str, caller: Authenticated, state: State) -> HostOut:
    """Revoke the host's credentials and cut its live link at once."""
    host = await run_in_threadpool(load_host, state, caller, host_ref, "host.revoke")
    await run_in_threadpool(_store_revocation, state, host.id)
    cut = await state.agents.disconnect(host.id, "revoked")
    await run_in_threadpool(audit_write, state, caller, "agent.revoke", f"host:{host.id}", {"link_cut": cut})
    return await run_in_threadpool(get_host, host.id, caller, state)


def _store_revocation(state: ServerState, host_id: str) -> None:
    with state.session() as session:
        host_store.revoke_host(session, host_id, state.clock())


@router.post("/{host_ref}/scan", response_model=ScanQueued, status_code=status.HTTP_202_ACCEPTED)
async def scan_host(host_ref: str, caller: Authenticated, state: State) -> ScanQueued:
    """Ask the host's agent to collect and report its inventory now."""
    host = await run_in_threadpool(load_host, state, caller, host_ref, "host.scan")
    if host.revoked_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the host is revoked")
    job_id = await state.agents.request_job(host.id, "inventory")
    if job_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the host's agent is not connected; it scans when it returns"
        )
    await run_in_threadpool(audit_write, state, caller, "host.scan", f"host:{host.id}", {"job": job_id})
    return ScanQueued(job_id=job_id)
