"""What the server does with each kind of result an agent delivers: the result-handler table.

Each handler parses untrusted bytes and stores them for the sending host only. It returns
"stored" or "duplicate", raises `ResultRejected` for input that will never be acceptable (the
agent drops it), and lets anything else propagate (the agent keeps the result and retries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from rampart.advisories.db import AdvisoryDB
from rampart.audit.events import DetailValue
from rampart.errors import RampartError
from rampart.fleet.fimingest import ingest_fim
from rampart.fleet.fimresult import parse_fim_result
from rampart.fleet.hardeningest import ingest_harden
from rampart.fleet.hardenresult import parse_harden_result
from rampart.fleet.ingest import ingest_inventory
from rampart.fleet.inventory import parse_inventory
from rampart.model import Advisory
from rampart.server.state import ServerState
from rampart.store import hosts as host_store

Stored = Literal["stored", "duplicate"]


class ResultRejected(RampartError):
    """A delivered result that can never be stored (malformed, wrong host, unknown kind)."""


class NoAdvisories:
    """The advisory source before any database exists: nothing matches yet."""

    def advisories_for(self, ecosystem: str, name: str) -> Sequence[Advisory]:
        return ()


def store_inventory(state: ServerState, host_id: str, result_id: str, data: bytes) -> Stored:
    """Parse an inventory, replace the host's packages and update its findings."""
    try:
        inventory = parse_inventory(data)
    except RampartError as error:
        raise ResultRejected(error.message) from None
    if inventory.id != result_id:
        raise ResultRejected("the inventory id differs from the result id")
    now = state.clock()
    with advisory_source(state) as source, state.session() as session:
        outcome = ingest_inventory(session, host_id, inventory, source, now)
        host_store.mark_seen(session, host_id, now)
        if inventory.os is not None:
            host_store.update_os(
                session, host_id, inventory.os.id, inventory.os.version_id, inventory.os.pretty_name
            )
    return "stored" if outcome.stored else "duplicate"


def store_fim(state: ServerState, host_id: str, result_id: str, data: bytes) -> Stored:
    """Parse a file integrity result and bring the host's changes up to date; a refusal is audited as an alarm."""
    try:
        result = parse_fim_result(data)
    except RampartError as error:
        raise ResultRejected(error.message) from None
    if result.id != result_id:
        raise ResultRejected("the fim result id differs from the result id")
    now = state.clock()
    with state.session() as session:
        outcome = ingest_fim(session, host_id, result, now)
        host_store.mark_seen(session, host_id, now)
    if outcome.stored and outcome.refused is not None:
        details: dict[str, DetailValue] = {
            "result": result.id,
            "reason": outcome.refused,
            "applied": outcome.applied,
        }
        state.audit.append(f"host:{host_id}", "fim.refused", f"host:{host_id}", "failure", details)
    return "stored" if outcome.stored else "duplicate"


def store_harden(state: ServerState, host_id: str, result_id: str, data: bytes) -> Stored:
    """Parse a hardening run and store it for the sending host: a run in its history, its rule statuses."""
    try:
        result = parse_harden_result(data)
    except RampartError as error:
        raise ResultRejected(error.message) from None
    if result.id != result_id:
        raise ResultRejected("the harden result id differs from the result id")
    now = state.clock()
    with state.session() as session:
        outcome = ingest_harden(session, host_id, result, now)
        host_store.mark_seen(session, host_id, now)
    return "stored" if outcome.stored else "duplicate"


class advisory_source:  # noqa: N801 - used as a context manager, like open()
    """Opens the advisory database when there is one, else matches nothing."""

    def __init__(self, state: ServerState) -> None:
        path = state.config.advisory_path
        self._db = AdvisoryDB.open(path) if path.exists() else None

    def __enter__(self) -> AdvisoryDB | NoAdvisories:
        return self._db if self._db is not None else NoAdvisories()

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self._db.close()


RESULT_HANDLERS: Mapping[str, Callable[[ServerState, str, str, bytes], Stored]] = {
    "inventory": store_inventory,
    "fim": store_fim,
    "harden": store_harden,
}
