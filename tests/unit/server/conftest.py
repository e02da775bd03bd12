"""Server-test fixtures: a ServerState on a fresh data dir and database (both kinds), a TestClient over its app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rampart.server.app import create_app
from rampart.server.state import ServerState
from unit.server.server_helpers import ADMIN, Api, Clock, TestClient, make_state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server_state(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[ServerState]:
    """A ServerState on a fresh data dir and database (SQLite and PostgreSQL), with admin ``root``."""
    state = make_state(tmp_path / "data", database_url, clock)
    yield state
    state.engine.dispose()


@pytest.fixture
def api(server_state: ServerState, clock: Clock) -> Iterator[Api]:
    """A TestClient over the app, with the admin logged in."""
    with TestClient(create_app(server_state, background=False)) as client:
        api = Api(client, server_state, clock)
        api.admin_token = api.login(ADMIN)
        yield api
