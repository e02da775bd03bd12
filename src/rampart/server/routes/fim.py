"""File integrity on agents: each host's latest check, the changed paths, accepting them, checking now.

Paths travel twice: ``path`` is escaped display text (never a name's raw bytes), ``path_b64`` the exact
bytes, which is what an acceptance names.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, StringConstraints, model_validator
from starlette.concurrency import run_in_threadpool

from rampart.fleet import fim_queries
from rampart.fleet.fimingest import path_key
from rampart.server.deps import Authenticated, State, audit_write
from rampart.server.routes.hosts import load_host, visible_hosts
from rampart.server.schemas import ScanQueued, Strict
from rampart.server.state import ServerState

router = APIRouter(tags=["fim"])

PathB64 = Annotated[str, StringConstraints(min_length=4, max_length=8192, pattern=r"^[A-Za-z0-9+/]+={0,2}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]+$")]
HostRef = Annotated[str, StringConstraints(min_length=1, max_length=253)]
Cause = Literal["unexplained", "package-modified", "package", "generated"]
_SPACE_ONLY = re.compile(r"\s*")


class FimAttributeOut(BaseModel):
    name: str
    before: str
    after: str


class FimChangeOut(BaseModel):
    host_id: str
    hostname: str
    path: str
    path_b64: str
    change: str
    cause: str
    package: str | None
    note: str | None
    attributes: list[FimAttributeOut]
    fingerprint: str
    status: Literal["open", "accepted", "resolved"]
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    accepted_by: str | None
    accepted_at: datetime | None
    accepted_reason: str | None


class FimChangePage(BaseModel):
    total: int
    items: list[FimChangeOut]


class FimHostOut(BaseModel):
    """A host's latest check (``checked_at`` null when none arrived yet) and its changes."""

    host_id: str
    hostname: str
    checked_at: datetime | None
    baseline_created: str
    baseline_digest: str
    key_id: str
    entries: int
    unreadable: int
    refused: str
    open: dict[str, int]
    accepted: int


class FimAccept(Strict):
    """Accept the named changes (``paths_b64``) or every open one (``all_open``), with a reason."""

    host: HostRef
    paths_b64: Annotated[list[PathB64], Field(min_length=1, max_length=1000)] | None = None
    all_open: bool = False
    reason: Reason

    @model_validator(mode="after")
    def _one_selection(self) -> FimAccept:
        if (self.paths_b64 is None) == (not self.all_open):
            raise ValueError("name the changes in paths_b64 or set all_open, not both")
        if _SPACE_ONLY.fullmatch(self.reason):
            raise ValueError("the reason must say something")
        return self


@router.get("/fim/hosts", response_model=list[FimHostOut])
def fim_hosts(caller: Authenticated, state: State) -> list[FimHostOut]:
    """Every host the caller may see: its latest check and its open changes by cause."""
    hosts = visible_hosts(state, caller, "fim.read")
    with state.reader() as session:
        return [_host_out(h) for h in fim_queries.host_states(session, hosts)]


def _host_out(item: fim_queries.HostFim) -> FimHostOut:
    row = item.status
    return FimHostOut(
        host_id=item.host.id,
        hostname=item.host.hostname,
        checked_at=row.checked_at if row else None,
        baseline_created=row.baseline_created if row else "",
        baseline_digest=row.baseline_digest if row else "",
        key_id=row.key_id if row else "",
        entries=row.entries if row else 0,
        unreadable=row.unreadable if row else 0,
        refused=row.refused if row else "",
        open=item.open,
        accepted=item.accepted,
    )


@router.get("/fim/changes", response_model=FimChangePage)
def fim_changes(
    caller: Authenticated,
    state: State,
    host: Annotated[str | None, Query(max_length=253)] = None,
    status_filter: Annotated[Literal["open", "accepted", "resolved", "all"], Query(alias="status")] = "open",
    cause: Cause | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> FimChangePage:
    """Changed paths on the hosts the caller may see, the ones needing review first."""
    hosts = visible_hosts(state, caller, "fim.read")
    query = fim_queries.ChangeFilter(
        host_ids=frozenset(h.id for h in hosts), host=host, status=status_filter, cause=cause
    )
    with state.reader() as session:
        total, rows = fim_queries.list_changes(session, query, limit=limit, offset=offset)
        items = [_change_out(row, hostname) for row, hostname in rows]
    return FimChangePage(total=total, items=items)


def _change_out(row: Any, hostname: str) -> FimChangeOut:
    fields = {name: getattr(row, name) for name in FimChangeOut.model_fields if name != "hostname"}
    return FimChangeOut.model_validate({**fields, "hostname": hostname})


@router.post("/fim/changes/accept", response_model=list[FimChangeOut])
def accept_changes(body: FimAccept, caller: Authenticated, state: State) -> list[FimChangeOut]:
    """Accept changes of one host in the state each is in now; they stay accepted until that state changes."""
    host = load_host(state, caller, body.host, "fim.accept")
    rows = _accept(state, host.id, body, caller.name)
    details = {"count": len(rows), "reason": body.reason, "first_path": rows[0].path[:1024] if rows else None}
    audit_write(state, caller, "fim.accept", f"host:{host.id}", details)
    return [_change_out(row, host.hostname) for row in rows]


def _accept(state: ServerState, host_id: str, body: FimAccept, by: str) -> list[Any]:
    named = None if body.paths_b64 is None else {path_key(_decoded(p)): p for p in body.paths_b64}
    with state.session() as session:
        rows, missing = fim_queries.accept_changes(session, host_id, named, by, body.reason, state.clock())
    if missing and named is not None:
        first = named[missing[0]]
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{len(missing)} of the paths are not open changes of this host (first: {first[:80]})",
        )
    return rows


def _decoded(path_b64: str) -> bytes:
    try:
        return base64.b64decode(path_b64, validate=True)
    except binascii.Error:
        raise HTTPException(422, "paths_b64: not base64") from None


@router.post("/hosts/{host_ref}/fim/check", response_model=ScanQueued, status_code=status.HTTP_202_ACCEPTED)
async def check_host(host_ref: str, caller: Authenticated, state: State) -> ScanQueued:
    """Ask the host's agent to check its files against its baseline now."""
    host = await run_in_threadpool(load_host, state, caller, host_ref, "fim.check")
    if host.revoked_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the host is revoked")
    job_id = await state.agents.request_job(host.id, "fim")
    if job_id is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the host's agent is not connected; it checks on its own schedule"
        )
    await run_in_threadpool(audit_write, state, caller, "fim.check", f"host:{host.id}", {"job": job_id})
    return ScanQueued(job_id=job_id)
