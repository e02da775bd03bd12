"""The audit log over the API: JSON lines from a sequence number on, for auditors and SIEM collectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from rampart.audit.codec import to_line
from rampart.policy.model import AUDIT
from rampart.server.deps import Authenticated, State, authorize

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "audit events"}},
)
def audit_events(
    caller: Authenticated,
    state: State,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> StreamingResponse:
    """Audit events after sequence number `after`, oldest first, one JSON object per line."""
    authorize(state, caller, "audit.read", AUDIT)
    state.audit.append(caller.name, "audit.export", "audit:log", "success", {"after": after, "limit": limit})

    def lines() -> Iterator[bytes]:
        for event in state.audit.events(after=after, limit=limit):
            yield (to_line(event) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
