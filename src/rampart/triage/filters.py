"""Severity and fix-state filters, and the exit-status policy for CI use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rampart.errors import UsageError
from rampart.model import Finding, Severity


def parse_severities(text: str) -> frozenset[Severity]:
    """``"HIGH,CRITICAL"`` -> {HIGH, CRITICAL}; an unknown word is a UsageError."""
    chosen: set[Severity] = set()
    for word in filter(None, (part.strip().upper() for part in text.split(","))):
        if word not in Severity.__members__:
            names = ", ".join(Severity.__members__)
            raise UsageError(f"unknown severity {word!r}; choose from {names}")
        chosen.add(Severity[word])
    if not chosen:
        raise UsageError("--severity needs at least one severity")
    return frozenset(chosen)


def parse_threshold(text: str) -> Severity:
    """``"high"`` -> Severity.HIGH for --fail-on."""
    if "," in text:
        raise UsageError("--fail-on takes one severity, e.g. --fail-on high")
    (severity,) = parse_severities(text)
    return severity


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a user wants to see."""

    severities: frozenset[Severity] | None = None
    ignore_unfixed: bool = False

    def keep(self, finding: Finding) -> bool:
        if self.ignore_unfixed and not finding.fixed:
            return False
        return self.severities is None or finding.severity in self.severities

    def apply(self, findings: Iterable[Finding]) -> tuple[Finding, ...]:
        return tuple(f for f in findings if self.keep(f))


@dataclass(frozen=True)
class ExitPolicy:
    """Exit status for CI: ``exit_code`` when a shown finding is at least ``fail_on`` (any, if unset)."""

    exit_code: int = 0
    fail_on: Severity | None = None

    def status(self, findings: Iterable[Finding]) -> int:
        threshold = self.fail_on
        if self.exit_code == 0 and threshold is None:
            return 0
        code = self.exit_code or 1
        hit = any(threshold is None or f.severity >= threshold for f in findings)
        return code if hit else 0
