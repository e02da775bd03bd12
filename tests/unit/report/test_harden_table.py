"""The harden table: golden file, one table per section with its score, summary counts equal to the rows,
passing rows hidden on request, and evidence that cannot move the cursor or forge a row."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rampart.harden.model import Level, RuleResult, Status
from rampart.report.harden_table import render_table
from unit.report.harden_sample import FORGED, empty_report, golden, sample_report

ROW = re.compile(r"^(PASS|FAIL|NA|ERROR|MANUAL)\s+│", re.MULTILINE)


def test_table_matches_golden_file() -> None:
    golden("harden_check.txt", render_table(sample_report(), width=140))


def test_table_without_passing_rows_matches_golden_file() -> None:
    golden("harden_check_failing.txt", render_table(sample_report(), width=140, show_passed=False))


@pytest.mark.parametrize("show_passed", [True, False])
def test_the_summary_counts_equal_the_rows(show_passed: bool) -> None:
    text = render_table(sample_report(), width=400, show_passed=show_passed)
    rows = ROW.findall(text)
    summary = text.splitlines()[-1]
    assert summary.startswith("9 rules: 3 pass, 3 fail, 1 na, 1 error, 1 manual; score 50.0%")
    for status in Status:
        stated = int(re.search(rf"(\d+) {status.value}\b", summary).group(1))  # type: ignore[union-attr]
        listed = rows.count(status.value.upper())
        assert listed == (0 if status is Status.PASS and not show_passed else stated)
    assert ("3 passing rules not listed" in summary) is not show_passed


def test_sections_in_profile_order_with_their_own_score() -> None:
    text = render_table(sample_report(), width=400)
    titles = [line for line in text.splitlines() if "  score " in line]
    assert [t.split("  score ")[0] for t in titles] == [
        "1.1 Filesystem",
        "5.1 SSH server",
        "5.4 User accounts & <environment>",
    ]
    assert "score 50.0% (1 pass, 1 fail, 1 na, 0 error, 0 manual)" in titles[0]
    only_na = RuleResult("x", "X", "9.9 Other", (), Status.NA, Level.LOW, (), "does not apply")
    text = render_table(replace(sample_report(), results=(only_na,)), width=200)
    assert "9.9 Other  score n/a (0 pass, 0 fail, 1 na, 0 error, 0 manual)" in text
    assert text.splitlines()[-1] == "1 rules: 0 pass, 0 fail, 1 na, 0 error, 0 manual; score 100.0%"


def test_failing_rows_show_their_first_evidence_lines_and_how_many_more() -> None:
    text = render_table(sample_report(), width=400)
    assert "/etc/cron.hourly: mode 0755" in text and "/etc/cron.weekly" not in text
    assert "… and 2 more evidence lines" in text
    assert "/tmp: separate mount" not in text  # passing rows show no evidence
    assert "/tmp is not a separate partition" in text  # an na row shows its reason


@pytest.mark.parametrize("color", [False, True])
def test_no_evidence_can_move_the_cursor_reorder_text_or_forge_a_row(color: bool) -> None:
    text = render_table(sample_report(), width=400, color=color)
    assert "\x1b[2J" not in text and "\x1b[31mred" not in text and "\x1b[1m\n" not in text
    assert "\u202e" not in text and "\udcff" not in text and "\x01" not in text
    forged = FORGED.split("\n")[1]
    assert sum(forged in line for line in text.splitlines()) == 1
    assert not any(line.startswith("FAIL fake.rule") for line in text.splitlines())
    plain = render_table(sample_report(), width=400)
    assert "PermitRootLogin yes\\x0aFAIL fake.rule" in plain
    assert "/etc/cron.d/\\xffjob" in plain and "/etc/issue\\u202etxt.exe" in plain
    assert plain.startswith("/srv/rootfs\\x1b[1m (rootfs)")
    assert "warning: tailoring drops 2 rules\\u202e<b>" in plain


def test_colour_marks_statuses_only_when_asked() -> None:
    assert "\x1b[" not in render_table(sample_report(), width=200)
    coloured = render_table(sample_report(), width=200, color=True)
    assert "\x1b[1;31mFAIL" in coloured and "\x1b[32mPASS" in coloured


def test_an_empty_report_is_a_header_and_a_summary() -> None:
    text = render_table(empty_report(), width=120)
    assert text.splitlines()[-1] == "0 rules: 0 pass, 0 fail, 0 na, 0 error, 0 manual; score 100.0%"
    assert "│" not in text
