"""Fleet findings as SARIF 2.1.0: one rule per vulnerability, one result per finding, the host as a
logical location.

Pure: findings in, JSON text out (ASCII only, deterministic order). Levels follow severity:
CRITICAL and HIGH are ``error``, MEDIUM ``warning``, LOW and UNKNOWN ``note``; each rule carries a
``security-severity`` property for code-scanning dashboards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from rampart import __version__
from rampart.client.models import Finding
from rampart.model import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.UNKNOWN: "0.0",
}


def render_findings_sarif(findings: Sequence[Finding], *, tool_version: str = __version__) -> str:
    """The SARIF log: one run, rules sorted by vulnerability id, results in the order given."""
    rules = _rules(findings)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    run = {
        "tool": {"driver": _driver(rules, tool_version)},
        "results": [_result(f, index[f.vulnerability_id]) for f in findings],
        "columnKind": "unicodeCodePoints",
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def _driver(rules: list[dict[str, Any]], tool_version: str) -> dict[str, Any]:
    return {
        "name": "rampart",
        "semanticVersion": tool_version,
        "informationUri": "https://osv.dev/",
        "rules": rules,
    }


def _rules(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """One rule per vulnerability, at the worst severity any finding gives it."""
    worst = worst_by_vulnerability(findings)
    return [
        vulnerability_rule(
            worst[key],
            help_uri=f"https://osv.dev/vulnerability/{key}",
            aliases=list(worst[key].aliases),
        )
        for key in sorted(worst)
    ]


class RuleSource(Protocol):
    """What a rule is made of: any finding type with these fields (scan and fleet findings both are)."""

    @property
    def vulnerability_id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def summary(self) -> str | None: ...


_F = TypeVar("_F", bound=RuleSource)


def worst_by_vulnerability(findings: Iterable[_F]) -> dict[str, _F]:
    """Per vulnerability id, the finding with the worst severity."""
    worst: dict[str, _F] = {}
    for finding in findings:
        known = worst.get(finding.vulnerability_id)
        if known is None or finding.severity > known.severity:
            worst[finding.vulnerability_id] = finding
    return worst


def vulnerability_rule(finding: RuleSource, *, help_uri: str, aliases: list[str]) -> dict[str, Any]:
    """The SARIF rule (reportingDescriptor) of one vulnerability."""
    vulnerability = finding.vulnerability_id
    return {
        "id": vulnerability,
        "name": "KnownVulnerability",
        "shortDescription": {"text": finding.summary or vulnerability},
        "fullDescription": {"text": finding.summary or vulnerability},
        "helpUri": help_uri,
        "help": {"text": f"{vulnerability}: upgrade the affected package to a fixed version."},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "tags": ["security", "vulnerability", finding.severity.name.lower()],
            "aliases": aliases,
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.vulnerability_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "kind": "fail",
        "message": {"text": _message(finding)},
        "locations": [{"logicalLocations": [_host_location(finding)]}],
        "partialFingerprints": {"rampartFinding/v1": _fingerprint(finding)},
        "properties": _properties(finding),
    }


def _message(finding: Finding) -> str:
    fixed = ", ".join(finding.fixed_versions) or "no fixed version yet"
    return (
        f"{finding.package} {finding.version} ({finding.ecosystem}) on host {finding.hostname} "
        f"is affected by {finding.vulnerability_id} ({finding.severity.name}); fixed in: {fixed}"
    )


def _host_location(finding: Finding) -> dict[str, str]:
    return {"name": finding.hostname, "fullyQualifiedName": finding.host_id, "kind": "resource"}


def _fingerprint(finding: Finding) -> str:
    key = "\x1f".join(
        (finding.host_id, finding.ecosystem, finding.package, finding.version, finding.vulnerability_id)
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _properties(finding: Finding) -> dict[str, Any]:
    return {
        "hostId": finding.host_id,
        "hostname": finding.hostname,
        "ecosystem": finding.ecosystem,
        "package": finding.package,
        "version": finding.version,
        "severity": finding.severity.name,
        "fixedVersions": list(finding.fixed_versions),
        "status": finding.status,
    }
