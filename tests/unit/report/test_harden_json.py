"""The ``rampart.harden.check/1`` JSON: golden file, every documented key and only those, a summary equal
to the results listed, and text from the target escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rampart.harden.model import Status
from rampart.report.harden_json import SCHEMA, render_json
from unit.report.harden_sample import empty_report, golden, sample_report

DOCS = Path(__file__).parents[3] / "docs" / "harden-json.md"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(sample_report()))
    return document


def test_json_matches_golden_file() -> None:
    golden("harden_check.json", render_json(sample_report()))


def test_top_level_and_result_keys_are_the_documented_ones() -> None:
    document = _document()
    assert document["schema"] == SCHEMA == "rampart.harden.check/1"
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(), re.MULTILINE))
    result_keys = set(document["results"][0])
    assert set(document) | result_keys | set(document["summary"]) <= documented
    assert list(document) == [
        "schema", "target", "target_kind", "profile", "profile_title", "benchmark", "started",
        "duration_seconds", "score", "summary", "warnings", "results",
    ]  # fmt: skip
    assert list(document["results"][0]) == [
        "rule", "title", "section", "cis", "status", "severity", "evidence", "reason", "remediation",
        "references", "fixable",
    ]  # fmt: skip


def test_the_summary_counts_exactly_the_results_and_the_score_is_the_reports() -> None:
    document = _document()
    summary = document["summary"]
    statuses = [r["status"] for r in document["results"]]
    assert summary == {**{s.value: statuses.count(s.value) for s in Status}, "total": len(statuses)}
    assert summary == {"pass": 3, "fail": 3, "na": 1, "error": 1, "manual": 1, "total": 9}
    assert document["score"] == sample_report().score == 50.0


def test_results_keep_profile_order_and_rule_fields() -> None:
    results = _document()["results"]
    assert [r["rule"] for r in results] == [r.rule for r in sample_report().results]
    cron = results[2]
    assert cron["cis"] == ["2.4.1.2", "2.4.1.3"] and cron["severity"] == "high" and cron["fixable"] is True
    assert cron["references"] == ["file_permissions_cron_d"] and len(cron["evidence"]) == 7
    assert cron["remediation"].startswith("chmod og-rwx") and "\n" in cron["remediation"]
    assert results[1] == {**results[1], "status": "na", "reason": "/tmp is not a separate partition"}


def test_text_from_the_target_is_escaped() -> None:
    text = render_json(sample_report())
    document = json.loads(text)
    everything = json.dumps(document, ensure_ascii=False)
    for raw in ("\x1b", "\u202e", "\x01", "\x0b", "\udcff"):
        assert raw not in everything
    evidence = [line for r in document["results"] for line in r["evidence"]]
    assert "/etc/ssh/sshd_config:3: PermitRootLogin yes\\x0aFAIL fake.rule forged line" in evidence
    assert "/etc/cron.d/\\xffjob: mode 0666 (allowed at most 0600)" in evidence
    assert document["target"] == "/srv/rootfs\\x1b[1m"
    assert document["warnings"][0] == "tailoring drops 2 rules\\u202e<b>"


def test_an_empty_run() -> None:
    document = json.loads(render_json(empty_report()))
    assert document["results"] == [] and document["summary"]["total"] == 0 and document["score"] == 100.0
