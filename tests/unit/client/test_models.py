"""Wire types read strictly: every malformed, truncated, mistyped or oversized field is one ApiError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rampart.client.models import (
    Finding,
    FindingsPage,
    FleetSummary,
    Host,
    LoginResult,
    NewJoinToken,
    NewToken,
    TokenInfo,
    WhoAmI,
    to_json,
)
from rampart.errors import ApiError
from rampart.model import Severity
from unit.client.samples import finding_json, host_json


def test_times_are_utc_whatever_the_offset() -> None:
    host = Host.from_json(
        host_json(last_seen_at="2026-11-28T13:00:00+01:00", enrolled_at="2026-11-28T12:00:00")
    )
    assert host.last_seen_at == datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert host.enrolled_at == datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_unknown_severity_reads_as_unknown() -> None:
    assert Finding.from_json(finding_json(severity="weird")).severity is Severity.UNKNOWN
    assert Finding.from_json(finding_json(severity="high")).severity is Severity.HIGH


@pytest.mark.parametrize(
    "changes",
    [
        {"severity": None},
        {"aliases": "CVE-1"},
        {"aliases": [1]},
        {"fixed_versions": [None]},
        {"package": "x" * 70_000},
        {"first_seen_at": "2026-13-01T00:00:00Z"},
        {"first_seen_at": 1700000000},
        {"host_id": True},
    ],
)
def test_malformed_findings(changes: dict[str, Any]) -> None:
    with pytest.raises(ApiError, match="unexpected response: finding"):
        Finding.from_json(finding_json(**changes))


@pytest.mark.parametrize(
    "document",
    [
        {"total": "1", "items": []},
        {"total": True, "items": []},
        {"total": 1},
        {"total": 1, "items": [None]},
        {"total": 1, "items": {"a": 1}},
    ],
)
def test_malformed_pages(document: object) -> None:
    with pytest.raises(ApiError):
        FindingsPage.from_json(document)


@pytest.mark.parametrize(
    ("build", "document"),
    [
        (FleetSummary.from_json, {"hosts": 1, "open": {"HIGH": "1"}, "fixable": 0}),
        (FleetSummary.from_json, {"hosts": 1, "open": [], "fixable": 0}),
        (WhoAmI.from_json, {"name": "a", "roles": [], "tags": {}}),
        (WhoAmI.from_json, {"name": "a", "roles": [], "tags": {}, "token": {"id": "x"}}),
        (LoginResult.from_json, {"token": "t", "expires_at": "x", "user": {}}),
        (TokenInfo.from_json, {}),
        (NewToken.from_json, []),
        (NewJoinToken.from_json, "rpj_x"),
        (Host.from_json, host_json(tags={"a": 1})),
        (Host.from_json, host_json(packages="12")),
    ],
)
def test_malformed_documents(build: Any, document: object) -> None:
    with pytest.raises(ApiError) as error:
        build(document)
    assert "\n" not in error.value.message and error.value.message.startswith(
        "server sent an unexpected response"
    )


def test_to_json_omits_secrets_and_writes_plain_values() -> None:
    token = NewToken("id", "ci", ("read",), datetime(2026, 1, 1, tzinfo=UTC), "rpt_secret")
    document = to_json(token)
    assert document == {"id": "id", "name": "ci", "scopes": ["read"], "expires_at": "2026-01-01T00:00:00Z"}
    assert to_json(Finding.from_json(finding_json()))["severity"] == "MEDIUM"
    assert "rpt_secret" not in repr(token)
