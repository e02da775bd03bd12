"""The ``rampart.harden.check/1`` JSON document of a hardening run (schema in docs/harden-json.md).

Pure: report in, text out. Text that came from the checked system (the target, evidence, reasons, warnings)
is shown unambiguously escaped, as in the table; the rule's own words (title, remediation) are as written.
The summary counts exactly the results listed; ``score`` is `HardenReport.score`.
"""

from __future__ import annotations

from typing import Any

import orjson

from rampart.harden.model import HardenReport, RuleResult
from rampart.report.harden_table import counts, shown

SCHEMA = "rampart.harden.check/1"


def render_json(report: HardenReport) -> str:
    """The run as one indented JSON document ending with a newline."""
    document = {
        "schema": SCHEMA,
        "target": shown(report.target),
        "target_kind": report.target_kind,
        "profile": report.profile,
        "profile_title": report.profile_title,
        "benchmark": report.benchmark,
        "started": report.started,
        "duration_seconds": report.duration_seconds,
        "score": round(report.score, 2),
        "summary": counts(report.results),
        "warnings": [shown(warning) for warning in report.warnings],
        "results": [_result(result) for result in report.results],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def _result(result: RuleResult) -> dict[str, Any]:
    return {
        "rule": result.rule,
        "title": result.title,
        "section": result.section,
        "cis": list(result.cis),
        "status": result.status.value,
        "severity": str(result.severity),
        "evidence": [shown(line) for line in result.evidence],
        "reason": shown(result.reason),
        "remediation": result.remediation,
        "references": list(result.references),
        "fixable": result.fixable,
    }
