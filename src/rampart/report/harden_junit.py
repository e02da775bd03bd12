"""A hardening run as JUnit XML, for CI test dashboards: a testsuite per section, a testcase per rule.

A failing rule is a ``failure`` (message: its first evidence line; body: every evidence line, then the
remediation), an errored rule an ``error`` (message: the reason), a rule that does not apply or needs a
manual review is ``skipped`` with the reason; passing rules are bare testcases.

Pure: report in, text out. Text from the checked system is escaped as in the table (no control character
survives), and every other string loses the characters XML 1.0 cannot carry, so the document always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from rampart.harden.model import HardenReport, RuleResult, Status
from rampart.report.harden_table import by_section, counts, shown

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (the rule's own words; escaping is ElementTree's)."""
    return _XML_ILLEGAL.sub("", text)


def render_junit(report: HardenReport) -> str:
    """The JUnit XML document (UTF-8 declared) ending with a newline."""
    tally = counts(report.results)
    root = ET.Element("testsuites", _totals(f"rampart harden {report.profile}", tally))
    root.set("time", f"{report.duration_seconds:.3f}")
    for section, results in by_section(report.results).items():
        root.append(_suite(report, section, results))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _totals(name: str, tally: dict[str, int]) -> dict[str, str]:
    skipped = tally[Status.NA.value] + tally[Status.MANUAL.value]
    return {
        "name": xml_text(name),
        "tests": str(tally["total"]),
        "failures": str(tally[Status.FAIL.value]),
        "errors": str(tally[Status.ERROR.value]),
        "skipped": str(skipped),
    }


def _suite(report: HardenReport, section: str, results: Sequence[RuleResult]) -> ET.Element:
    suite = ET.Element("testsuite", _totals(section, counts(results)))
    suite.set("timestamp", xml_text(report.started))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", shown(report.target)),
        ("target_kind", report.target_kind),
        ("profile", report.profile),
        ("benchmark", report.benchmark),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for result in results:
        suite.append(_case(result))
    return suite


def _case(result: RuleResult) -> ET.Element:
    case = ET.Element("testcase", {"classname": xml_text(result.section), "name": _case_name(result)})
    if result.status is Status.FAIL:
        evidence = [shown(line) for line in result.evidence]
        detail = ET.SubElement(case, "failure", {"type": f"severity:{result.severity}"})
        detail.set("message", evidence[0] if evidence else xml_text(result.title))
        detail.text = "\n".join([*evidence, *_remediation(result)])
    elif result.status is Status.ERROR:
        detail = ET.SubElement(case, "error", {"type": "check-error", "message": shown(result.reason)})
        detail.text = "\n".join(shown(line) for line in result.evidence)
    elif result.status in (Status.NA, Status.MANUAL):
        ET.SubElement(case, "skipped", {"message": f"{result.status.value}: {shown(result.reason)}"})
    return case


def _case_name(result: RuleResult) -> str:
    cis = f" [CIS {', '.join(result.cis)}]" if result.cis else ""
    return xml_text(f"{result.rule}: {result.title}{cis}")


def _remediation(result: RuleResult) -> list[str]:
    return ["", f"remediation: {xml_text(result.remediation)}"] if result.remediation else []
