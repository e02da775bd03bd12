"""Severity: CVSS v4 over v3, package over record level, rating fallback, malformed vectors, merge max."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rampart.match.engine import match_packages
from rampart.match.severity import rate
from rampart.model import Advisory, Affected, Event, Package, Range, Severity, SeverityScore

V3_CRITICAL = SeverityScore("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")  # 9.8
V3_MEDIUM = SeverityScore("CVSS_V3", "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N")  # 5.5
V4_HIGH = SeverityScore("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N")
MALFORMED = SeverityScore("CVSS_V3", "CVSS:3.1/AV:N/AC:L/garbage")
ENTRY = Affected("PyPI", "demo", (Range("ECOSYSTEM", (Event("introduced", "0"),)),))


def advisory(advisory_id: str = "X-1", **fields: Any) -> Advisory:
    return Advisory(advisory_id, "2024-01-01T00:00:00Z", affected=(ENTRY,), **fields)


def test_cvss_v3() -> None:
    rated = rate(advisory(severity=(V3_CRITICAL,)), (ENTRY,))
    assert (rated.severity, rated.score, rated.vector) == (Severity.CRITICAL, 9.8, V3_CRITICAL.score)


def test_cvss_v4_preferred_over_v3() -> None:
    rated = rate(advisory(severity=(V3_CRITICAL, V4_HIGH)), (ENTRY,))
    assert rated.vector == V4_HIGH.score
    assert rated.severity is Severity.HIGH
    assert rated.score is not None and 7.0 <= rated.score < 9.0


def test_package_level_severity_preferred() -> None:
    entry = Affected("PyPI", "demo", ENTRY.ranges, severity=(V3_MEDIUM,))
    rated = rate(advisory(severity=(V3_CRITICAL,)), (entry,))
    assert (rated.severity, rated.score) == (Severity.MEDIUM, 5.5)


def test_rating_when_no_vector() -> None:
    rated = rate(advisory(rating="MODERATE"), (ENTRY,))
    assert (rated.severity, rated.score, rated.vector) == (Severity.MEDIUM, None, None)


def test_malformed_vector_falls_back_without_crashing() -> None:
    assert rate(advisory(severity=(MALFORMED,), rating="high"), (ENTRY,)).severity is Severity.HIGH
    assert rate(advisory(severity=(MALFORMED, V3_MEDIUM)), (ENTRY,)).score == 5.5
    assert (
        rate(advisory(severity=(SeverityScore("CVSS_V4", "nonsense"),)), (ENTRY,)).severity
        is Severity.UNKNOWN
    )


def test_non_cvss_rating_entry_and_unknown() -> None:
    assert rate(advisory(severity=(SeverityScore("Ubuntu", "medium"),)), (ENTRY,)).severity is Severity.MEDIUM
    assert rate(advisory(), (ENTRY,)).severity is Severity.UNKNOWN


def test_merged_finding_takes_the_highest_severity(make_source: Callable[..., Any]) -> None:
    low = advisory("DSA-1", related=("CVE-2024-1",), rating="low")
    high = advisory("PYSEC-1", aliases=("CVE-2024-1",), severity=(V3_CRITICAL,))
    medium = advisory("GHSA-1", aliases=("CVE-2024-1",), severity=(V3_MEDIUM,))
    out = match_packages([Package("demo", "1.0", "PyPI", "/x", "test")], make_source(low, high, medium))
    (finding,) = out.findings
    assert finding.advisory_ids == ("DSA-1", "GHSA-1", "PYSEC-1")
    assert (finding.severity, finding.cvss_score, finding.cvss_vector) == (
        Severity.CRITICAL,
        9.8,
        V3_CRITICAL.score,
    )
