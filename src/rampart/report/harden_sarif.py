"""A hardening run as SARIF 2.1.0: one rule per failing or errored hardening rule, one result for each.

Passing, not-applicable and manual rules are not results. A failure is ``kind: fail`` at a level from the
rule's severity (critical and high ``error``, medium ``warning``, low and info ``note``); a rule whose check
could not run is ``kind: open`` (SARIF: the tool could not decide), which SARIF requires to have level
``none``. The location is the first absolute file path in the evidence (relative to the target, uri base
``TARGET``, with its line when the evidence says ``path:line``), else a logical location named by the rule id.

Pure: report in, JSON text out (ASCII only, deterministic order). Evidence and reasons are shown escaped as
in the table; the warnings of the run are the invocation's notifications.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from rampart import __version__
from rampart.harden.model import HardenReport, Level, RuleResult, Status
from rampart.report.findings_sarif import SARIF_SCHEMA, SARIF_VERSION
from rampart.report.harden_table import MAX_EVIDENCE, counts, evidence_excerpt, shown

URI_BASE = "TARGET"
FINGERPRINT = "rampartHardenRule/v1"
LEVELS = {
    Level.CRITICAL: "error",
    Level.HIGH: "error",
    Level.MEDIUM: "warning",
    Level.LOW: "note",
    Level.INFO: "note",
}
SECURITY_SEVERITY = {
    Level.CRITICAL: "9.5",
    Level.HIGH: "8.0",
    Level.MEDIUM: "5.5",
    Level.LOW: "2.0",
    Level.INFO: "0.0",
}
REPORTED = (Status.FAIL, Status.ERROR)
MAX_PROPERTY_EVIDENCE = 100
_PATH = re.compile(r"(?<![\w./~:-])(/(?!/)[^\s:,;'\"()<>\[\]]+)(?::(\d+))?")


def render_sarif(report: HardenReport, *, tool_version: str = __version__) -> str:
    """The SARIF log: one run, rules sorted by id, results in the report's (profile) order."""
    reported = [result for result in report.results if result.status in REPORTED]
    rules = [_rule(result) for result in sorted({r.rule: r for r in reported}.values(), key=lambda r: r.rule)]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    run = {
        "tool": {"driver": _driver(rules, tool_version)},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {
            URI_BASE: {"description": {"text": f"the checked target: {shown(report.target)}"}}
        },
        "automationDetails": _automation(report),
        "results": [_result(result, index[result.rule]) for result in reported],
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(report),
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def _driver(rules: list[dict[str, Any]], tool_version: str) -> dict[str, Any]:
    return {
        "name": "rampart",
        "version": tool_version,
        "semanticVersion": tool_version,
        "rules": rules,
    }


def _rule(result: RuleResult) -> dict[str, Any]:
    """The reportingDescriptor of a hardening rule: its title, remediation as help, CIS ids and severity."""
    return {
        "id": result.rule,
        "name": _camel(result.rule),
        "shortDescription": {"text": result.title or result.rule},
        "fullDescription": {"text": f"{result.title or result.rule} ({result.section})"},
        "help": {"text": result.remediation or "No remediation text is given for this rule."},
        "defaultConfiguration": {"level": LEVELS[result.severity]},
        "properties": {
            "cis": list(result.cis),
            "severity": str(result.severity),
            "security-severity": SECURITY_SEVERITY[result.severity],
            "section": result.section,
            "references": list(result.references),
            "fixable": result.fixable,
            "tags": ["security", "hardening", str(result.severity)],
        },
    }


def _camel(rule: str) -> str:
    """``ssh.max-auth-tries`` -> ``SshMaxAuthTries`` (SARIF's rule name is an identifier-like word)."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule) if part) or "Rule"


def _result(result: RuleResult, rule_index: int) -> dict[str, Any]:
    failed = result.status is Status.FAIL
    return {
        "ruleId": result.rule,
        "ruleIndex": rule_index,
        "kind": "fail" if failed else "open",
        "level": LEVELS[result.severity] if failed else "none",
        "message": {"text": _message(result)},
        "locations": [_location(result)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(result)},
        "properties": {
            "status": result.status.value,
            "severity": str(result.severity),
            "cis": list(result.cis),
            "evidence": evidence_excerpt(result, MAX_PROPERTY_EVIDENCE),
        },
    }


def _message(result: RuleResult) -> str:
    if result.status is Status.ERROR:
        head = f"{result.title}: could not be checked: {shown(result.reason)}"
    else:
        head = f"{result.title}: not met"
    evidence = evidence_excerpt(result, MAX_EVIDENCE)
    return head + (": " + "; ".join(evidence) if evidence else "")


def first_path(evidence: tuple[str, ...]) -> tuple[str, int | None] | None:
    """The first absolute file path any evidence line mentions, and its line number when ``path:NN`` says."""
    for line in evidence:
        match = _PATH.search(line)
        if match:
            number = int(match.group(2)) if match.group(2) else None
            return match.group(1).rstrip("."), number if number else None
    return None


def _location(result: RuleResult) -> dict[str, Any]:
    found = first_path(result.evidence)
    if found is None:
        return {
            "logicalLocations": [{"name": result.rule, "fullyQualifiedName": result.rule, "kind": "object"}]
        }
    path, line = found
    uri = quote(path.lstrip("/").encode("utf-8", "surrogateescape"), safe="/")
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": URI_BASE}}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical, "message": {"text": f"{shown(path)} (rule {result.rule})"}}


def _fingerprint(result: RuleResult) -> str:
    """Stable across runs of the same target: the rule and the file it points at."""
    found = first_path(result.evidence)
    key = "\x1f".join((result.rule, found[0] if found else ""))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def _invocation(report: HardenReport) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "toolExecutionNotifications": [
            {"level": "warning", "message": {"text": shown(warning)}} for warning in report.warnings
        ],
    }
    started = _utc(report.started)
    if started:
        invocation["startTimeUtc"] = started
    return invocation


def _utc(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _automation(report: HardenReport) -> dict[str, Any]:
    """One category per target and profile, so code-scanning services keep their runs apart."""
    category = shown(report.target.strip("/")) or "host"
    return {
        "id": f"rampart-harden/{report.profile}/{category}/",
        "description": {"text": f"rampart harden check of {shown(report.target)} ({report.profile})"},
    }


def _run_properties(report: HardenReport) -> dict[str, Any]:
    return {
        "profile": report.profile,
        "profileTitle": report.profile_title,
        "benchmark": report.benchmark,
        "targetKind": report.target_kind,
        "score": round(report.score, 2),
        "summary": counts(report.results),
    }
