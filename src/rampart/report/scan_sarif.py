"""A scan's findings as SARIF 2.1.0: one rule per vulnerability, one result per finding at the file that
recorded its package.

Pure: a ScanResult and the current time in, JSON text out (ASCII only, deterministic order). Levels and the
``security-severity`` numbers are those of the fleet SARIF report. Locations are paths relative to the
scanned target (uri base ``TARGET``); a package from an image names its layer in the location's properties.
Findings hidden by an ignore rule are listed as suppressed results; file errors and warnings become the
invocation's notifications.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from rampart import __version__
from rampart.model import Finding, IgnoredFinding, Package, ScanResult
from rampart.report.findings_sarif import (
    LEVELS,
    SARIF_SCHEMA,
    SARIF_VERSION,
    vulnerability_rule,
    worst_by_vulnerability,
)
from rampart.report.spdx import timestamp

INFORMATION_URI = "https://osv.dev/"
URI_BASE = "TARGET"
FINGERPRINT = "rampartScanFinding/v1"


def render_scan_sarif(result: ScanResult, now: datetime, *, tool_version: str = __version__) -> str:
    """The SARIF log: one run, rules sorted by vulnerability id, results in finding order, then ignored ones."""
    everything = (*result.findings, *(i.finding for i in result.ignored))
    rules = _rules(everything)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = [_result(f, index[f.vulnerability_id]) for f in result.findings]
    results += [_suppressed(i, index[i.finding.vulnerability_id]) for i in result.ignored]
    run = {
        "tool": {"driver": _driver(rules, tool_version)},
        "invocations": [_invocation(result, now)],
        "originalUriBaseIds": {URI_BASE: _base(result.inventory.target)},
        "automationDetails": _automation(result.inventory.target),
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def _driver(rules: list[dict[str, Any]], tool_version: str) -> dict[str, Any]:
    return {
        "name": "rampart",
        "version": tool_version,
        "semanticVersion": tool_version,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def _rules(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """One rule per vulnerability, at the worst severity any finding gives it."""
    worst = worst_by_vulnerability(findings)
    return [
        vulnerability_rule(
            worst[key],
            help_uri="https://osv.dev/vulnerability/" + quote(key, safe=""),
            aliases=list(dict.fromkeys((*worst[key].aliases, *worst[key].advisory_ids))),
        )
        for key in sorted(worst)
    ]


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.vulnerability_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "kind": "fail",
        "message": {"text": _message(finding)},
        "locations": [_location(finding.package)],
        "partialFingerprints": {FINGERPRINT: fingerprint(finding)},
        "properties": _properties(finding),
    }


def _suppressed(ignored: IgnoredFinding, rule_index: int) -> dict[str, Any]:
    until = f" (until {ignored.expires})" if ignored.expires else ""
    suppression = {"kind": "external", "status": "accepted", "justification": ignored.reason + until}
    return {**_result(ignored.finding, rule_index), "suppressions": [suppression]}


def _message(finding: Finding) -> str:
    package = finding.package
    fixed = ", ".join(finding.fixed_versions) or "no fixed version yet"
    return (
        f"{package.name} ({package.ecosystem}) is affected by {finding.vulnerability_id} "
        f"({finding.severity.name}): installed {package.version}, fixed in {fixed}"
    )


def _location(package: Package) -> dict[str, Any]:
    """The file that recorded the package, relative to the target; its image layer when known."""
    path = package.location.lstrip("/")
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": URI_BASE}},
        "message": {"text": f"{package.name} {package.version} recorded in /{path}"},
    }
    if package.layer:
        location["properties"] = {"layer": package.layer}
    return location


def fingerprint(finding: Finding) -> str:
    """Stable across runs and image rebuilds: the package, where it was found, and the vulnerability."""
    package = finding.package
    parts = (package.ecosystem, package.name, package.version, package.location, finding.vulnerability_id)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _properties(finding: Finding) -> dict[str, Any]:
    package = finding.package
    properties: dict[str, Any] = {
        "package": package.name,
        "version": package.version,
        "ecosystem": package.ecosystem,
        "purl": package.purl,
        "severity": finding.severity.name,
        "fixedVersions": list(finding.fixed_versions),
        "advisories": list(finding.advisory_ids),
    }
    if finding.cvss_vector:
        properties["cvss"] = {"score": finding.cvss_score, "vector": finding.cvss_vector}
    if package.layer:
        properties["layer"] = package.layer
    return properties


def _invocation(result: ScanResult, now: datetime) -> dict[str, Any]:
    """A successful run (file errors do not stop a scan): its end time, the errors and warnings it met."""
    errors = (_notification("error", f"{e.path}: {e.message}") for e in result.inventory.errors)
    warnings = (_notification("warning", w) for w in result.warnings)
    return {
        "executionSuccessful": True,
        "endTimeUtc": timestamp(now),
        "toolExecutionNotifications": [*errors, *warnings],
    }


def _notification(level: str, text: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}}


def _base(target: str) -> dict[str, Any]:
    """The target's root, described by name only (an image or SBOM path is not the root of the files)."""
    return {"description": {"text": f"the scanned target: {target}"}}


def _automation(target: str) -> dict[str, Any]:
    """The category code-scanning services group runs by (the id up to its last slash): one per target."""
    category = target.strip("/") or "host"
    return {"id": f"rampart/{category}/", "description": {"text": f"rampart scan of {target}"}}
