"""Findings across the fleet: filtered lists and per-host and fleet summaries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from rampart.fleet import image_queries, queries
from rampart.model import Severity
from rampart.server.deps import Authenticated, State
from rampart.server.routes.hosts import TagFilter, visible_hosts
from rampart.server.routes.registries import readable_registries
from rampart.server.schemas import FindingOut, FindingPage, FleetSummary, HostSummary
from rampart.store import registries as registry_store

router = APIRouter(prefix="/findings", tags=["findings"])
SeverityList = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z]+(,[A-Za-z]+)*$")]
Text = Annotated[str | None, Query(max_length=256)]


def severities(text: str | None) -> frozenset[Severity]:
    words = [word.upper() for word in text.split(",")] if text else []
    unknown = [word for word in words if word not in Severity.__members__]
    if unknown:
        raise HTTPException(422, f"severity: unknown level {unknown[0][:20]!r}")
    return frozenset(Severity[word] for word in words)


@router.get("", response_model=FindingPage)
def list_findings(
    caller: Authenticated,
    state: State,
    severity: SeverityList = None,
    host: Text = None,
    tag: TagFilter = None,
    package: Text = None,
    advisory: Text = None,
    fixable: bool | None = None,
    status: Literal["open", "fixed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> FindingPage:
    """Findings on the hosts the caller may see, filtered."""
    hosts = visible_hosts(state, caller, "finding.read")
    key, _, value = (tag or "").partition("=")
    filters = queries.FindingFilter(
        severities=severities(severity),
        host=host,
        tag=(key, value) if tag else None,
        package=package,
        advisory=advisory,
        fixable=fixable,
        status=status,
        host_ids=frozenset(h.id for h in hosts),
    )
    with state.reader() as session:
        total, rows = queries.list_findings(session, filters, limit=limit, offset=offset)
        items = [FindingOut.model_validate(row, from_attributes=True) for row in rows]
    return FindingPage(total=total, items=items)


@router.get("/summary", response_model=FleetSummary | list[HostSummary])
def summary(
    caller: Authenticated, state: State, by: Literal["fleet", "host"] = "fleet"
) -> FleetSummary | list[HostSummary]:
    """Open findings by severity for the whole visible fleet (hosts, and registry images beside them), or per host."""
    host_ids = frozenset(h.id for h in visible_hosts(state, caller, "finding.read"))
    with state.reader() as session:
        if by == "host":
            return [
                HostSummary.model_validate(s, from_attributes=True)
                for s in queries.host_summaries(session, host_ids)
            ]
        hosts = queries.fleet_summary(session, host_ids)
        images = registry_store.list_images(session, readable_registries(state, caller))
        counts = image_queries.image_counts(session, [image.id for image, _ in images]).values()
        images_open, images_fixable = image_queries.image_totals(counts)
    return FleetSummary(
        hosts=hosts.hosts,
        open=hosts.open,
        fixable=hosts.fixable,
        images=len(images),
        images_open=images_open,
        images_fixable=images_fixable,
    )
