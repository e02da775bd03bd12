"""Re-matching the fleet against the advisory database on request."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, State, audit_write, authorize
from rampart.server.rematch import rematch_now
from rampart.server.schemas import RematchOut

router = APIRouter(prefix="/advisories", tags=["advisories"])


@router.post("/rematch", response_model=RematchOut)
async def rematch(caller: Authenticated, state: State) -> RematchOut:
    """Re-judge every host's stored inventory against the current advisory database now."""
    await run_in_threadpool(authorize, state, caller, "advisory.rematch", FLEET)
    outcome = await rematch_now(state)
    out = RematchOut(
        hosts=outcome.hosts,
        packages=outcome.packages,
        opened=outcome.opened,
        closed=outcome.closed,
        seconds=round(outcome.seconds, 3),
    )
    await run_in_threadpool(
        audit_write, state, caller, "advisory.rematch", "fleet", {"opened": out.opened, "closed": out.closed}
    )
    return out
