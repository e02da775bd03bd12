"""The fleet_state key/value table (e.g. which advisory database build the fleet was last matched with)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rampart.store.models import FleetState

ADVISORY_BUILD = "advisory_build"


def get_state(session: Session, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    row = session.get(FleetState, key)
    return None if row is None else row.value


def set_state(session: Session, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing any previous value."""
    session.merge(FleetState(key=key, value=value))
    session.flush()
