"""A small deterministic audit chain for the audit tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rampart.audit.chain import AuditChain
from rampart.audit.events import AuditEvent
from rampart.audit.sinks import AuditSink

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def ticking_clock() -> Callable[[], datetime]:
    """A clock that moves one second per call, starting at START."""
    ticks = iter(range(1_000_000))
    return lambda: START + timedelta(seconds=next(ticks))


def make_events(count: int, sink: AuditSink | None = None) -> list[AuditEvent]:
    """`count` chained events alternating logins, denials and writes."""
    chain = AuditChain(sink=sink, clock=ticking_clock())
    kinds = [
        ("alice", "auth.login.success", "console", "success", {"ip": "10.0.0.1"}),
        ("bob", "authz.deny", "host/web-1", "deny", {"rule": "deny-prod"}),
        ("alice", "api.write", "agent/42", "success", {"changes": 3, "dry_run": False}),
    ]
    return [chain.append(*kinds[i % 3]) for i in range(count)]
