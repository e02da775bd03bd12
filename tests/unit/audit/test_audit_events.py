"""Audit events: validation on construction, the event-code table, and secret redaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from rampart.audit.chain import AuditChain
from rampart.audit.events import EVENT_TYPES, REDACTED, Outcome, is_secret_key, redact
from rampart.errors import AuditError
from unit.audit.sample import START, make_events, ticking_clock


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db_password",
        "api_key",
        "apiKey",
        "token",
        "refreshToken",
        "client-secret",
        "Cookie",
        "pwd",
    ],
)
def test_secret_looking_keys_are_recognised(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["ip", "user", "rule", "changes", "host", "path"])
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


def test_redact_masks_secret_values_and_keeps_the_rest() -> None:
    masked = redact({"user": "alice", "password": "hunter2", "api_key": "abc", "token": None})
    assert masked == {"user": "alice", "password": REDACTED, "api_key": REDACTED, "token": None}


def test_event_refuses_an_unredacted_secret() -> None:
    event = make_events(1)[0]
    with pytest.raises(AuditError, match="looks like a secret") as caught:
        replace(event, details={"password": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_chain_append_redacts_before_storing() -> None:
    chain = AuditChain(clock=ticking_clock())
    event = chain.append(
        "alice", "auth.login.failure", "console", "failure", {"password": "hunter2", "ip": "1.2.3.4"}
    )
    assert event.details == {"password": REDACTED, "ip": "1.2.3.4"}


def test_unknown_action_and_outcome_are_refused() -> None:
    chain = AuditChain(clock=ticking_clock())
    with pytest.raises(AuditError, match="unknown audit action"):
        chain.append("alice", "auth.login.maybe", "console", "success")
    with pytest.raises(AuditError, match="outcome"):
        chain.append("alice", "auth.login.success", "console", "ok")
    assert chain.head.seq == 0


def test_event_codes_are_dotted_lowercase_and_include_the_required_ones() -> None:
    required = {
        "auth.login.success",
        "auth.login.failure",
        "agent.enroll",
        "agent.revoke",
        "authz.deny",
        "api.write",
    }
    assert required <= set(EVENT_TYPES)
    assert all(code == code.lower() and "." in code and EVENT_TYPES[code] for code in EVENT_TYPES)


@pytest.mark.parametrize(
    "details",
    [
        {"nested": {"a": 1}},
        {"list": [1]},
        {"ratio": 0.5},
        {"big": 1 << 64},
        {"bad key": 1},
        {"long": "x" * 5000},
    ],
)
def test_details_must_be_flat_and_json_safe(details: dict[str, object]) -> None:
    event = make_events(1)[0]
    with pytest.raises(AuditError):
        replace(event, details=details)  # type: ignore[arg-type]


def test_time_must_be_aware_utc_and_is_normalised() -> None:
    event = make_events(1)[0]
    with pytest.raises(AuditError, match="UTC"):
        replace(event, time=START.replace(tzinfo=None))
    with pytest.raises(AuditError, match="UTC"):
        replace(event, time=START.astimezone(timezone(timedelta(hours=2))))
    assert replace(event, time=datetime.fromisoformat("2026-03-01T12:00:00+00:00")).time.tzinfo is not None


def test_details_are_copied_so_caller_mutation_does_not_leak_in() -> None:
    details: dict[str, str | int | bool | None] = {"ip": "10.0.0.1"}
    event = AuditChain(clock=ticking_clock()).append(
        "alice", "auth.login.success", "console", Outcome.SUCCESS, details
    )
    details["ip"] = "changed"
    assert event.details == {"ip": "10.0.0.1"}
