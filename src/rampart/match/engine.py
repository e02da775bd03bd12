"""The matcher's entry point: packages x an AdvisorySource -> findings and unmatchable pairs.

Judgement only: it asks the source for advisories and never reads files. Packages
that share a lookup (binary packages of one Debian source at one version) are
judged once. Output is sorted by package name, version, then vulnerability id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from rampart.match.judge import judge_advisory
from rampart.match.merge import Hit, build_finding, keyed_hits
from rampart.match.names import LookupKey, lookup_key
from rampart.match.severity import rate
from rampart.match.source import AdvisorySource
from rampart.model import Advisory, Finding, MatchEvidence, Package, Unmatchable
from rampart.versions.base import UnsupportedEcosystem, VersionScheme
from rampart.versions.table import scheme_for


@dataclass(frozen=True)
class MatchOutcome:
    """Findings, and the package/advisory pairs that could not be judged."""

    findings: tuple[Finding, ...]
    unmatchable: tuple[Unmatchable, ...]


@dataclass(frozen=True)
class _Judged:
    """Everything learnt about one lookup key: findings (for the first package judged), unjudged pairs."""

    findings: tuple[Finding, ...]
    unjudged: tuple[tuple[str, str], ...]

    def for_package(self, package: Package) -> list[Finding]:
        """The findings, re-addressed to another package sharing the same lookup."""
        if not self.findings or self.findings[0].package == package:
            return list(self.findings)
        return [replace(f, package=package) for f in self.findings]


def _hit(advisory: Advisory, lookup: LookupKey) -> Hit | tuple[str, str] | None:
    judgement, entries = judge_advisory(advisory, lookup)
    if judgement.affected is None:
        return (advisory.id, judgement.reason)
    if not judgement.affected:
        return None
    matched = "; ".join(dict.fromkeys(judgement.matched))
    evidence = MatchEvidence(advisory.id, lookup.ecosystem, lookup.name, lookup.version, matched)
    return Hit(advisory, evidence, judgement.fixed, rate(advisory, entries))


def judge_lookup(package: Package, lookup: LookupKey, source: AdvisorySource) -> _Judged:
    """Judge every live advisory the source holds for one lookup key, reporting under ``package``."""
    advisories = {a.id: a for a in source.advisories_for(lookup.ecosystem, lookup.name) if not a.withdrawn}
    results = [_hit(a, lookup) for a in advisories.values()]
    hits = [r for r in results if isinstance(r, Hit)]
    unjudged = tuple(r for r in results if isinstance(r, tuple))
    return _Judged(tuple(_findings(package, hits)), unjudged)


def _scheme(ecosystem: str) -> VersionScheme | None:
    try:
        return scheme_for(ecosystem)
    except UnsupportedEcosystem:
        return None


def _findings(package: Package, hits: list[Hit]) -> list[Finding]:
    scheme = _scheme(package.ecosystem)
    return [build_finding(k, group, package, scheme) for k, group in keyed_hits(hits).items()]


class Matcher:
    """Matches packages as they arrive (a scan feeds it while the walk goes on); lookups are judged once."""

    def __init__(self, source: AdvisorySource) -> None:
        self.source = source
        self._judged: dict[LookupKey, _Judged] = {}
        self._seen: set[Package] = set()
        self._findings: list[Finding] = []
        self._unmatchable: list[Unmatchable] = []

    def add(self, packages: Iterable[Package]) -> None:
        """Judge more packages; one already judged, or installed by the OS package manager, is not judged."""
        for package in packages:
            if package in self._seen or package.managed_by is not None:
                continue
            self._seen.add(package)
            lookup = lookup_key(package)
            judged = self._judged.get(lookup)
            if judged is None:
                judged = self._judged[lookup] = judge_lookup(package, lookup, self.source)
            self._findings.extend(judged.for_package(package))
            self._unmatchable.extend(Unmatchable(package, aid, reason) for aid, reason in judged.unjudged)

    def outcome(self) -> MatchOutcome:
        """Everything judged so far, in a stable order."""
        findings = sorted(self._findings, key=lambda f: (*_package_order(f.package), f.vulnerability_id))
        unmatchable = sorted(
            self._unmatchable, key=lambda u: (*_package_order(u.package), u.advisory_id, u.reason)
        )
        return MatchOutcome(tuple(findings), tuple(unmatchable))


def match_packages(packages: Sequence[Package], source: AdvisorySource) -> MatchOutcome:
    """Match every package against the advisories ``source`` holds for it."""
    matcher = Matcher(source)
    matcher.add(packages)
    return matcher.outcome()


def _package_order(package: Package) -> tuple[str, str, str, str]:
    return (package.name, package.version, package.ecosystem, package.location)
