"""Severity/fix filters and the CI exit policy."""

from __future__ import annotations

import pytest

from rampart.errors import UsageError
from rampart.model import Severity
from rampart.triage.filters import ExitPolicy, FindingFilter, parse_severities, parse_threshold
from unit.report.sample import sample_result


def test_parse_severities() -> None:
    assert parse_severities("high, Critical") == {Severity.HIGH, Severity.CRITICAL}
    with pytest.raises(UsageError, match="unknown severity 'SEVERE'"):
        parse_severities("severe")
    with pytest.raises(UsageError):
        parse_severities(" , ")


def test_parse_threshold_takes_exactly_one() -> None:
    assert parse_threshold("medium") is Severity.MEDIUM
    with pytest.raises(UsageError, match="one severity"):
        parse_threshold("high,critical")


def test_filter_by_severity_and_fix_state() -> None:
    findings = sample_result().findings
    high = FindingFilter(frozenset({Severity.HIGH, Severity.CRITICAL})).apply(findings)
    fixed_only = FindingFilter(ignore_unfixed=True).apply(findings)
    assert {f.vulnerability_id for f in high} == {"CVE-2023-0494", "CVE-2019-10906"}
    assert all(f.fixed for f in fixed_only) and len(fixed_only) == 3
    assert FindingFilter().apply(findings) == findings


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ExitPolicy(), 0),
        (ExitPolicy(exit_code=3), 3),
        (ExitPolicy(fail_on=Severity.CRITICAL), 1),
        (ExitPolicy(exit_code=5, fail_on=Severity.CRITICAL), 5),
    ],
)
def test_exit_policy_with_findings(policy: ExitPolicy, expected: int) -> None:
    assert policy.status(sample_result().findings) == expected


def test_exit_policy_below_threshold_or_clean_is_zero() -> None:
    low_only = [f for f in sample_result().findings if f.severity <= Severity.LOW]
    assert ExitPolicy(fail_on=Severity.HIGH).status(low_only) == 0
    assert ExitPolicy(exit_code=4).status([]) == 0
