"""Small hardening runs for the server-side tests: rules named by id with a status each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from rampart.fleet.hardenresult import HardenResult, from_report, parse_harden_result
from rampart.harden.model import HardenReport, Level, RuleResult, Status

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rule(
    rule_id: str, status: str = "pass", severity: str = "medium", evidence: tuple[str, ...] = ()
) -> RuleResult:
    """A rule result; its title, section and CIS id follow from the id."""
    return RuleResult(
        rule=rule_id,
        title=f"Title of {rule_id}",
        section="5.1 SSH server",
        cis=("5.1.16",),
        status=Status(status),
        severity=Level.parse(severity),
        evidence=evidence or (f"{rule_id}: {status}",),
        reason="" if status in ("pass", "fail") else f"why {status}",
    )


def report(results: list[RuleResult], started: datetime = T0, profile: str = "ssh-server") -> HardenReport:
    return HardenReport(
        target="/",
        target_kind="host",
        profile=profile,
        profile_title="SSH server",
        benchmark="debian12",
        results=tuple(results),
        started=started.isoformat(timespec="seconds"),
        duration_seconds=1.25,
    )


def harden_bytes(
    results: list[RuleResult],
    started: datetime = T0,
    *,
    profile: str = "ssh-server",
    result_id: str | None = None,
    job_id: str | None = None,
) -> bytes:
    """The upload an agent would send."""
    return from_report(report(results, started, profile), result_id or str(uuid.uuid4()), job_id)


def harden_result(results: list[RuleResult], started: datetime = T0, **options: object) -> HardenResult:
    return parse_harden_result(harden_bytes(results, started, **options))  # type: ignore[arg-type]
