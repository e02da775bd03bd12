"""The harden JUnit XML: golden file, a testsuite per section and a testcase per rule, statuses mapped to
failure/error/skipped, totals that add up, and a document that parses whatever the evidence holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from rampart.harden.model import Level, RuleResult, Status
from rampart.report.harden_junit import render_junit, xml_text
from unit.report.harden_sample import empty_report, golden, sample_report


def _root() -> ET.Element:
    return ET.fromstring(render_junit(sample_report()))


def test_junit_matches_golden_file() -> None:
    golden("harden_check.junit.xml", render_junit(sample_report()))


def test_a_suite_per_section_a_case_per_rule_and_totals_that_add_up() -> None:
    root = _root()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "1.1 Filesystem",
        "5.1 SSH server",
        "5.4 User accounts & <environment>",
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "9",
        "3",
        "1",
        "2",
    )
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
        assert suite.get("errors") == str(sum(c.find("error") is not None for c in cases))
        assert suite.get("skipped") == str(sum(c.find("skipped") is not None for c in cases))
    assert sum(int(s.get("tests", "0")) for s in suites) == len(sample_report().results)


def test_statuses_map_to_failure_error_and_skipped() -> None:
    cases = {c.get("name", "").split(":")[0]: c for c in _root().iter("testcase")}
    cron = cases["fs.cron-perms"].find("failure")
    assert cron is not None and cron.get("type") == "severity:high"
    assert cron.get("message") == "/etc/cron.d/\\xffjob: mode 0666 (allowed at most 0600)"
    assert "remediation: chmod og-rwx" in (cron.text or "") and "/etc/cron.monthly" in (cron.text or "")
    error = cases["ssh.banner"].find("error")
    assert error is not None and error.get("message", "").startswith(
        "cannot read /etc/ssh/sshd_config.d/\\x1b[0m"
    )
    na = cases["fs.tmp-noexec"].find("skipped")
    manual = cases["acct.review-users"].find("skipped")
    assert na is not None and na.get("message") == "na: /tmp is not a separate partition"
    assert manual is not None and manual.get("message", "").startswith("manual: review")
    assert list(cases["fs.tmp-separate"]) == [] and list(cases["acct.root-gid"]) == []
    assert (
        cases["fs.cron-perms"].get("name")
        == "fs.cron-perms: Cron directories are private to root [CIS 2.4.1.2, 2.4.1.3]"
    )


def test_hostile_text_stays_escaped_and_the_document_always_parses() -> None:
    text = render_junit(sample_report())
    for raw in ("\x1b", "\u202e", "\x01", "\x0b", "<script>"):
        assert raw not in text
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp;" in text
    root = ET.fromstring(text)
    failure = next(
        c.find("failure") for c in root.iter("testcase") if c.get("name", "").startswith("ssh.permit")
    )
    assert failure is not None and failure.get("message") == (
        "/etc/ssh/sshd_config:3: PermitRootLogin yes\\x0aFAIL fake.rule forged line"
    )


def test_xml_illegal_characters_in_the_rules_own_words_are_dropped() -> None:
    odd = RuleResult(
        "odd\x00.rule", "Title \x01with\x1f junk\ufffe", "Sect\x08ion", ("1\x0c",), Status.FAIL, Level.LOW,
        ("\x02",), remediation="fix \x03it",
    )  # fmt: skip
    text = render_junit(replace(sample_report(), results=(odd,)))
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case is not None and case.get("name") == "odd.rule: Title with junk [CIS 1]"
    assert xml_text("a\x00b\tc\nd\re\ud800") == "ab\tc\nd\re"


def test_an_empty_run_is_an_empty_suite_list() -> None:
    root = ET.fromstring(render_junit(empty_report()))
    assert root.tag == "testsuites" and root.get("tests") == "0" and list(root) == []
