"""Findings SARIF 2.1.0: golden file, the fields the SARIF 2.1.0 schema requires, one rule per
vulnerability, one result per finding, host as a logical location, ASCII-only output.

No SARIF JSON schema ships with an installed package, so the required properties of the schema's
objects (sarifLog, run, tool, toolComponent, reportingDescriptor, result, message, location,
logicalLocation) are checked here one by one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rampart.report.findings_sarif import render_findings_sarif
from unit.client.samples import HOST_A, sample_findings

GOLDEN = Path(__file__).parent / "golden" / "fleet_findings.sarif"


def _log() -> dict[str, Any]:
    return json.loads(render_findings_sarif(sample_findings(), tool_version="0.0.0-test"))


def test_sarif_matches_golden_file() -> None:
    text = render_findings_sarif(sample_findings(), tool_version="0.0.0-test")
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_required_top_level_fields() -> None:
    log = _log()
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "rampart" and driver["semanticVersion"] == "0.0.0-test"


def test_one_rule_per_vulnerability_at_its_worst_severity() -> None:
    rules = _log()["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["CVE-2024-0727", "CVE-2024-5535", "GHSA-xxxx-yyyy-zzzz"]
    for rule in rules:
        assert isinstance(rule["id"], str) and rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("none", "note", "warning", "error")
        assert float(rule["properties"]["security-severity"]) >= 0
    assert rules[0]["defaultConfiguration"]["level"] == "warning"  # MEDIUM beats the LOW finding
    assert rules[1]["properties"]["security-severity"] == "9.5"


def test_one_result_per_finding_with_the_host_as_logical_location() -> None:
    run = _log()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(sample_findings())
    for result, finding in zip(results, sample_findings(), strict=True):
        assert result["message"]["text"] and result["ruleId"] == finding.vulnerability_id
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        (logical,) = location["logicalLocations"]
        assert logical == {
            "name": finding.hostname,
            "fullyQualifiedName": finding.host_id,
            "kind": "resource",
        }
        assert len(result["partialFingerprints"]["rampartFinding/v1"]) == 64
    assert results[0]["properties"]["hostId"] == HOST_A


def test_output_is_ascii_and_hostile_text_stays_inert() -> None:
    text = render_findings_sarif(sample_findings())
    assert text.isascii() and "\x1b" not in text
    assert (
        json.loads(text)["runs"][0]["results"][3]["locations"][0]["logicalLocations"][0]["name"]
        == "evil\x1b[2J\nhost"
    )


def test_no_findings_is_a_valid_empty_run() -> None:
    log = json.loads(render_findings_sarif([]))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_fingerprints_differ_per_finding() -> None:
    results = _log()["runs"][0]["results"]
    prints = {r["partialFingerprints"]["rampartFinding/v1"] for r in results}
    assert len(prints) == len(results)
