"""The "rampart.harden.result/1" document an agent uploads after a hardening run.

`from_report` writes it from a `HardenReport` (or, with ``error``, for a run that could not be made: an
unknown profile, a rule set that does not load); `parse_harden_result` reads it on the server, treating it as
hostile: size, count and string caps, exact keys and types, every text free of control characters, rule ids
unique, and the score the one the results give. Evidence is bounded: at most `MAX_EVIDENCE` lines of at most
`MAX_EVIDENCE_TEXT` characters each (the builder cuts and says how many lines it left out; the parser refuses).

Document::

    {schema, id, job_id, profile, profile_title, benchmark, target_kind, started, duration_seconds, score,
     error, results: [{rule, title, section, cis, status, severity, evidence, reason}]}
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from rampart.errors import InventoryError
from rampart.fleet import fields
from rampart.harden.model import HardenReport, Level, RuleResult, Status

SCHEMA = "rampart.harden.result/1"
MAX_BYTES = 16 * 1024 * 1024
MAX_RESULTS = 2_000
MAX_EVIDENCE = 20
MAX_EVIDENCE_TEXT = 500
MAX_CIS = 16
MAX_DURATION = 7 * 24 * 3600.0
STATUSES = frozenset(s.value for s in Status)
SEVERITIES = frozenset(str(level) for level in Level)
TARGET_KINDS = frozenset({"host", "rootfs", "image"})
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
_PROFILE_ID = re.compile(r"[a-z0-9][a-z0-9_.+-]{0,79}")
_BENCHMARK = re.compile(r"[a-z0-9_.-]{0,64}")
_CIS_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_TOP = {
    "schema",
    "id",
    "job_id",
    "profile",
    "profile_title",
    "benchmark",
    "target_kind",
    "started",
    "duration_seconds",
    "score",
    "error",
    "results",
}
INVALID_PROFILE = "invalid-profile"  # what an error document names when the asked-for name is not an id
_RESULT = {"rule", "title", "section", "cis", "status", "severity", "evidence", "reason"}


@dataclass(frozen=True)
class HardenRuleResult:
    """One rule's result as the server stores it."""

    rule: str
    title: str
    section: str
    cis: tuple[str, ...]
    status: str
    severity: str
    evidence: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class HardenResult:
    """One parsed upload; ``error`` holds why no run was made (then ``results`` is empty)."""

    id: str
    job_id: str | None
    profile: str
    profile_title: str
    benchmark: str
    target_kind: str
    started: datetime
    duration_seconds: float
    score: float
    error: str | None
    results: tuple[HardenRuleResult, ...]
    sha256: str
    size: int

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)


def score_of(statuses: Sequence[str]) -> float:
    """Passed as a percentage of passed and failed (the report's score), rounded to 2 places."""
    passed, failed = statuses.count(Status.PASS.value), statuses.count(Status.FAIL.value)
    return round(100.0 * passed / (passed + failed), 2) if passed + failed else 100.0


def from_report(report: HardenReport, result_id: str, job_id: str | None) -> bytes:
    """The upload for a finished run (at most `MAX_RESULTS` results, the score of those written)."""
    results = [_result_document(result) for result in report.results[:MAX_RESULTS]]
    document = _head(result_id, job_id, report.profile, _parse_time(report.started) or datetime.now(UTC))
    document.update(
        profile_title=fields.safe(report.profile_title),
        benchmark=fields.safe(report.benchmark),
        target_kind=report.target_kind,
        duration_seconds=max(0.0, min(float(report.duration_seconds), MAX_DURATION)),
        score=score_of([r["status"] for r in results]),
        results=results,
    )
    return orjson.dumps(document)


def error_document(profile: str, error: str, result_id: str, job_id: str | None, started: datetime) -> bytes:
    """The upload for a run that could not be made: the profile asked for (`INVALID_PROFILE` when that is not
    a profile id at all) and why."""
    named = profile if _PROFILE_ID.fullmatch(profile) else INVALID_PROFILE
    document = _head(result_id, job_id, named, started)
    document["error"] = fields.safe(error) or "the run failed"
    return orjson.dumps(document)


def _head(result_id: str, job_id: str | None, profile: str, started: datetime) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "id": result_id,
        "job_id": job_id,
        "profile": fields.safe(profile)[:80],
        "profile_title": "",
        "benchmark": "",
        "target_kind": "host",
        "started": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "duration_seconds": 0.0,
        "score": 100.0,
        "error": None,
        "results": [],
    }


def _result_document(result: RuleResult) -> dict[str, Any]:
    return {
        "rule": result.rule,
        "title": fields.safe(result.title),
        "section": fields.safe(result.section),
        "cis": [fields.safe(item)[:32] for item in result.cis[:MAX_CIS]],
        "status": result.status.value,
        "severity": str(result.severity),
        "evidence": bounded_evidence(result.evidence),
        "reason": fields.safe(result.reason),
    }


def bounded_evidence(lines: Sequence[str]) -> list[str]:
    """At most `MAX_EVIDENCE` safe lines of at most `MAX_EVIDENCE_TEXT` characters; the last says what was cut."""
    kept = [fields.safe(line, MAX_EVIDENCE_TEXT) for line in lines[:MAX_EVIDENCE]]
    if len(lines) > MAX_EVIDENCE:
        kept[-1] = f"... {len(lines) - MAX_EVIDENCE + 1} more evidence lines not sent"
    return kept


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def parse_harden_result(data: bytes) -> HardenResult:
    """Read and check an upload; `InventoryError` naming the first problem, in one line."""
    if len(data) > MAX_BYTES:
        raise InventoryError(f"harden result is larger than {MAX_BYTES} bytes")
    document = fields.load(data, SCHEMA, "harden result", _TOP)
    results = tuple(
        _result(r, n) for n, r in enumerate(fields.items(document["results"], "results", MAX_RESULTS))
    )
    _unique(results)
    error = fields.optional(document["error"], "error")
    if error is not None and results:
        raise InventoryError("a harden result with an error carries no results")
    return HardenResult(
        id=fields.uuid_text(document["id"]),
        job_id=fields.optional(document["job_id"], "job_id"),
        profile=_match(document["profile"], _PROFILE_ID, "profile"),
        profile_title=fields.text(document["profile_title"], "profile_title"),
        benchmark=_match(document["benchmark"], _BENCHMARK, "benchmark"),
        target_kind=fields.choice(document["target_kind"], TARGET_KINDS, "target_kind"),
        started=_time(document["started"]),
        duration_seconds=_number(document["duration_seconds"], "duration_seconds", MAX_DURATION),
        score=_score(document["score"], results),
        error=error,
        results=results,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def _match(value: object, pattern: re.Pattern[str], where: str) -> str:
    text = fields.text(value, where)
    if not pattern.fullmatch(text):
        raise InventoryError(f"{where} is not a valid identifier: {fields.shown(text)}")
    return text


def _number(value: object, where: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InventoryError(f"{where} must be a number from 0 to {limit:g}")
    if not math.isfinite(value) or not 0 <= value <= limit:
        raise InventoryError(f"{where} must be a number from 0 to {limit:g}")
    return float(value)


def _score(value: object, results: Sequence[HardenRuleResult]) -> float:
    score = _number(value, "score", 100.0)
    expected = score_of([r.status for r in results])
    if abs(score - expected) > 0.01:
        raise InventoryError(f"score {score:g} is not the results' score {expected:g}")
    return expected


def _time(value: object) -> datetime:
    parsed = _parse_time(fields.text(value, "started"))
    if parsed is None or parsed.utcoffset() is None:
        raise InventoryError("started must be an RFC 3339 time with a UTC offset")
    if parsed.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        raise InventoryError("started must be in UTC")
    return parsed.astimezone(UTC)


def _result(value: object, index: int) -> HardenRuleResult:
    where = f"results[{index}]"
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be an object")
    fields.keys(value, _RESULT, where)
    cis = fields.items(value["cis"], f"{where}.cis", MAX_CIS)
    evidence = fields.items(value["evidence"], f"{where}.evidence", MAX_EVIDENCE)
    return HardenRuleResult(
        rule=_match(value["rule"], _RULE_ID, f"{where}.rule"),
        title=fields.text(value["title"], f"{where}.title"),
        section=fields.text(value["section"], f"{where}.section"),
        cis=tuple(_match(c, _CIS_ID, f"{where}.cis[{n}]") for n, c in enumerate(cis)),
        status=fields.choice(value["status"], STATUSES, f"{where}.status"),
        severity=fields.choice(value["severity"], SEVERITIES, f"{where}.severity"),
        evidence=tuple(
            fields.text(line, f"{where}.evidence[{n}]", MAX_EVIDENCE_TEXT) for n, line in enumerate(evidence)
        ),
        reason=fields.text(value["reason"], f"{where}.reason"),
    )


def _unique(results: Sequence[HardenRuleResult]) -> None:
    seen: set[str] = set()
    for result in results:
        if result.rule in seen:
            raise InventoryError(f"rule {result.rule!r} is reported twice")
        seen.add(result.rule)
