"""The value types of hardening: rule records, check outcomes and rule results, and the run's report."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """What a rule found: ``pass``, ``fail``, ``na`` (does not apply, with a reason), ``error``, ``manual``."""

    PASS = "pass"  # noqa: S105 - a status word, not a password
    FAIL = "fail"
    NA = "na"
    ERROR = "error"
    MANUAL = "manual"


class Level(enum.IntEnum):
    """A rule's severity; ``--fail-on`` compares against it."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Level:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Outcome:
    """A check's answer: a status, the evidence lines that show why, and for na/error the one-line reason."""

    status: Status
    evidence: tuple[str, ...] = ()
    reason: str = ""

    @classmethod
    def passed(cls, *evidence: str) -> Outcome:
        return cls(Status.PASS, evidence)

    @classmethod
    def failed(cls, *evidence: str) -> Outcome:
        return cls(Status.FAIL, evidence)

    @classmethod
    def not_applicable(cls, reason: str, *evidence: str) -> Outcome:
        return cls(Status.NA, evidence, reason)

    @classmethod
    def errored(cls, reason: str, *evidence: str) -> Outcome:
        return cls(Status.ERROR, evidence, reason)

    @classmethod
    def manual(cls, reason: str, *evidence: str) -> Outcome:
        return cls(Status.MANUAL, evidence, reason)


@dataclass(frozen=True)
class CheckSpec:
    """A typed check as a rule writes it: the check type and its parameters (validated by the check)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One hardening rule, loaded from YAML.

    ``cis`` maps a benchmark name (``debian12``, ``ubuntu2404``, ``al2023``, ``docker``) to the benchmark item ids
    this rule implements; ``references`` names equivalent rules elsewhere (ComplianceAsCode rule names).
    ``requires`` names capabilities of the target the rule needs (``kernel``, ``systemd``, ``runtime``, ``image``).
    """

    id: str
    title: str
    rationale: str
    severity: Level
    section: str
    check: CheckSpec
    cis: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    requires: frozenset[str] = frozenset()
    precondition: CheckSpec | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    remediation: str = ""
    fix: CheckSpec | None = None
    source: str = ""


@dataclass(frozen=True)
class RuleResult:
    """A rule evaluated on one target under one profile."""

    rule: str
    title: str
    section: str
    cis: tuple[str, ...]
    status: Status
    severity: Level
    evidence: tuple[str, ...]
    reason: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()
    fixable: bool = False


@dataclass(frozen=True)
class HardenReport:
    """The whole run: what was checked, under which profile, and every rule's result in profile order."""

    target: str
    target_kind: str
    profile: str
    profile_title: str
    benchmark: str
    results: tuple[RuleResult, ...]
    started: str
    duration_seconds: float
    warnings: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def score(self) -> float:
        """Passed rules as a percentage of rules that passed or failed (na, manual and error do not count)."""
        decided = self.count(Status.PASS) + self.count(Status.FAIL)
        return 100.0 * self.count(Status.PASS) / decided if decided else 100.0
