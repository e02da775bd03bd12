"""Continuous re-evaluation: re-match the fleet whenever the advisory database changes.

The server never asks agents to rescan for this: it re-judges the inventories it already stores.
One re-match runs at a time; a watcher polls the database's build identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from starlette.concurrency import run_in_threadpool

from rampart.advisories.db import AdvisoryDB
from rampart.errors import RampartError
from rampart.fleet.rematch import RematchOutcome, last_build_id, rematch_fleet
from rampart.model import DatabaseInfo
from rampart.server.state import ServerState

log = logging.getLogger("rampart.server")


def advisory_build_id(info: DatabaseInfo) -> str:
    """A short identity of one build of the advisory database (changes with every update)."""
    stamp = info.built_at.isoformat() if info.built_at else "never"
    counts = ",".join(f"{k}={v}" for k, v in sorted(info.counts.items()))
    return hashlib.sha256(f"{stamp}|{counts}".encode()).hexdigest()[:16]


def current_build_id(state: ServerState) -> str | None:
    """The build id of the advisory database on disk, or None when there is none yet."""
    if not state.config.advisory_path.exists():
        return None
    with AdvisoryDB.open(state.config.advisory_path) as database:
        return advisory_build_id(database.info())


def _rematch(state: ServerState) -> RematchOutcome:
    with AdvisoryDB.open(state.config.advisory_path) as database:
        build = advisory_build_id(database.info())
        return rematch_fleet(state.sessions, database, build, state.clock())


async def rematch_now(state: ServerState) -> RematchOutcome:
    """Re-match the whole fleet now (waits for a re-match already running)."""
    async with state.rematch_lock:
        return await run_in_threadpool(_rematch, state)


def _needs_rematch(state: ServerState) -> bool:
    build = current_build_id(state)
    if build is None:
        return False
    with state.reader() as session:
        return last_build_id(session) != build


async def watch_advisories(state: ServerState) -> None:
    """Poll the advisory database; re-match the fleet when its build changes. Runs until cancelled."""
    while True:
        try:
            if await run_in_threadpool(_needs_rematch, state):
                outcome = await rematch_now(state)
                state.audit.append(
                    "server",
                    "advisory.rematch",
                    "fleet",
                    "success",
                    {"opened": outcome.opened, "closed": outcome.closed, "hosts": outcome.hosts},
                )
                log.info(
                    "re-matched %d hosts: %d opened, %d closed", outcome.hosts, outcome.opened, outcome.closed
                )
        except RampartError as error:
            log.warning("advisory re-match skipped: %s", error.message)
        await asyncio.sleep(state.config.rematch_check_interval)
