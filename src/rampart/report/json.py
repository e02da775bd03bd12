"""The JSON report (schema ``rampart.scan/1``, documented in docs/scan-json.md).

Pure: a ScanResult and the current time in, a JSON text out. Output is ASCII-only
(every non-ASCII or control character escaped), compact (pipe it to ``jq`` to read it)
and its order is deterministic.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Any

from rampart.model import (
    DatabaseInfo,
    Finding,
    IgnoredFinding,
    MatchEvidence,
    OsRelease,
    Package,
    ScanResult,
    Severity,
    Unmatchable,
)

SCHEMA = "rampart.scan/1"


def render_json(result: ScanResult, now: datetime) -> str:
    """The whole scan result as one JSON document."""
    try:
        return ascii_json(_document(result, now)) + "\n"
    finally:
        _package.cache_clear()


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def ascii_json(document: object) -> str:
    """Compact JSON with every non-ASCII character escaped (as ``json.dumps`` does by default).

    orjson serialises several times faster than the standard library; the rare non-ASCII text is
    escaped afterwards, which is safe because such characters can only stand inside JSON strings.
    """
    import orjson

    text = orjson.dumps(document).decode("utf-8")
    return text if text.isascii() else _NON_ASCII.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return json.dumps(match.group())[1:-1]


def _document(result: ScanResult, now: datetime) -> dict[str, Any]:
    document = {
        "schema": SCHEMA,
        "target": result.inventory.target,
        "os": _os(result.inventory.os),
        "database": _database(result.database, now),
        "summary": summary_of(result),
        "findings": [_finding(f) for f in result.findings],
        "ignored": [_ignored(i) for i in result.ignored],
        "unmatchable": [_unmatchable(u) for u in result.unmatchable],
        "packages": [_package(p) for p in result.inventory.packages],
        "errors": [{"path": e.path, "message": e.message} for e in result.inventory.errors],
        "warnings": list(result.warnings),
    }
    return document


def summary_of(result: ScanResult) -> dict[str, Any]:
    """Counts that always equal the rows listed elsewhere in the report."""
    by_severity = Counter(f.severity.name for f in result.findings)
    by_ecosystem = Counter(p.ecosystem for p in result.inventory.packages)
    return {
        "packages": len(result.inventory.packages),
        "packages_by_ecosystem": dict(sorted(by_ecosystem.items())),
        "files_seen": result.inventory.files_seen,
        "findings": len(result.findings),
        "by_severity": {s.name: by_severity.get(s.name, 0) for s in reversed(Severity)},
        "vulnerable_packages": len({_package_key(f.package) for f in result.findings}),
        "fixable": sum(1 for f in result.findings if f.fixed),
        "ignored": len(result.ignored),
        "unmatchable": len(result.unmatchable),
        "errors": len(result.inventory.errors),
        "warnings": len(result.warnings),
    }


def _package_key(package: Package) -> tuple[str, str, str, str]:
    return (package.ecosystem, package.name, package.version, package.location)


def _os(os_release: OsRelease | None) -> dict[str, Any] | None:
    if os_release is None:
        return None
    return {
        "id": os_release.id,
        "version_id": os_release.version_id,
        "pretty_name": os_release.pretty_name,
        "ecosystem": os_release.ecosystem,
    }


def _database(info: DatabaseInfo | None, now: datetime) -> dict[str, Any] | None:
    if info is None:
        return None
    built = info.built_at
    return {
        "built_at": built.isoformat() if built else None,
        "age_hours": round((now - built).total_seconds() / 3600, 1) if built else None,
        "schema_version": info.schema_version,
        "sources": list(info.sources),
        "counts": dict(sorted(info.counts.items())),
    }


@cache
def _package(package: Package) -> dict[str, Any]:
    """A package's JSON object, built once per render (many findings share one package).

    ``layer`` (the digest of the image layer that brought it) is there only when known.
    """
    document: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "ecosystem": package.ecosystem,
        "purl": package.purl,
        "source_name": package.source_name,
        "source_version": package.source_version,
        "location": package.location,
        "extractor": package.extractor,
        "managed_by": package.managed_by,
    }
    if package.layer is not None:
        document["layer"] = package.layer
    return document


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.vulnerability_id,
        "advisories": list(finding.advisory_ids),
        "aliases": list(finding.aliases),
        "package": _package(finding.package),
        "severity": finding.severity.name,
        "cvss": {"score": finding.cvss_score, "vector": finding.cvss_vector} if finding.cvss_vector else None,
        "status": "fixed" if finding.fixed else "unfixed",
        "fixed_versions": list(finding.fixed_versions),
        "summary": finding.summary,
        "evidence": [_evidence(e) for e in finding.evidence],
    }


def _evidence(evidence: MatchEvidence) -> dict[str, str]:
    return {
        "advisory": evidence.advisory_id,
        "ecosystem": evidence.ecosystem,
        "name": evidence.name,
        "version": evidence.version,
        "matched": evidence.matched,
    }


def _ignored(ignored: IgnoredFinding) -> dict[str, Any]:
    return {"finding": _finding(ignored.finding), "reason": ignored.reason, "expires": ignored.expires}


def _unmatchable(item: Unmatchable) -> dict[str, Any]:
    return {"package": _package(item.package), "advisory": item.advisory_id, "reason": item.reason}
