"""Property-based fuzzing of every operation in the OpenAPI document (schemathesis), on SQLite.

With an admin token no operation may answer 5xx;
without a token every operation except login, the CA and enrollment must answer 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from fixtures import databases
from rampart.auth.tokens import hash_secret, issue_api_token
from rampart.server.app import API_PREFIX, create_app
from rampart.store import tokens as token_store
from unit.server.server_helpers import ADMIN, Clock, make_state

pytestmark = pytest.mark.slow
OPEN = {f"{API_PREFIX}/auth/login", f"{API_PREFIX}/ca", f"{API_PREFIX}/enroll"}
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz_app(tmp_path: Path) -> Iterator[Any]:
    """The app over a fresh SQLite ServerState (the fuzz runs on one database kind)."""
    url = databases.fresh_database_url("sqlite", tmp_path)
    clock = Clock()
    state = make_state(tmp_path / "data", url, clock)
    yield create_app(state, background=False)
    state.engine.dispose()


def admin_token(app: Any) -> str:
    """A fresh admin token straight from the store (a fuzzed logout may revoke any earlier one)."""
    state = app.state.rampart
    issued, now = issue_api_token(), state.clock()
    with state.session() as session:
        token_store.add_api_token(
            session,
            issued.id,
            ADMIN,
            "fuzz",
            hash_secret(issued.secret),
            ["admin", "audit", "read", "write"],
            now,
            now + timedelta(days=1),
        )
    return issued.wire


def operations(app: Any) -> list[Any]:
    """Every operation of the app's OpenAPI document."""
    schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_lists_every_operation(fuzz_app: Any) -> None:
    listed = {(op.method.upper(), op.path) for op in operations(fuzz_app)}
    assert ("POST", f"{API_PREFIX}/users") in listed
    assert ("GET", f"{API_PREFIX}/audit") in listed
    assert len(listed) >= 20


def test_no_operation_fails_with_a_valid_admin_token(fuzz_app: Any) -> None:
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    for operation in operations(fuzz_app):

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            headers = {"Authorization": f"Bearer {admin_token(fuzz_app)}"}
            case.call_and_validate(headers=headers, checks=checks)

        run()


def test_every_operation_but_login_ca_and_enroll_requires_a_token(fuzz_app: Any) -> None:
    for operation in operations(fuzz_app):

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call()
            if case.path in OPEN:
                assert response.status_code != 401 or case.path != f"{API_PREFIX}/ca"
            else:
                assert response.status_code == 401, (case.method, case.path, response.text[:200])

        run()
