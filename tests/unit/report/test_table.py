"""The terminal table: grouping, escaping of hostile text, colour only when asked, golden file."""

from __future__ import annotations

import os
from pathlib import Path

from rampart.model import ScanResult
from rampart.report.table import render_table
from unit.report.sample import NOW, sample_result

GOLDEN = Path(__file__).parent / "golden" / "scan.txt"


def test_table_matches_golden_file() -> None:
    text = render_table(sample_result(), NOW, width=140)
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_no_control_characters_reach_the_terminal_without_colour() -> None:
    text = render_table(sample_result(), NOW, width=140)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "evil\\x1b[2J\\x0aname" in text


def test_colour_codes_only_come_from_the_renderer() -> None:
    text = render_table(sample_result(), NOW, width=140, color=True)
    assert "\x1b[" in text
    assert "\x1b[2J" not in text  # the hostile sequence stays escaped


def test_package_named_once_per_group() -> None:
    text = render_table(sample_result(), NOW, width=140)
    assert text.count("xserver-xorg-core") == 1
    assert "CVE-2023-1393" in text and "CVE-2023-0494" in text


def test_clean_result_says_so() -> None:
    result = sample_result()
    clean = ScanResult(result.inventory, (), result.database)
    text = render_table(clean, NOW, width=140)
    assert "No known vulnerabilities found." in text
    assert "Total: 0" in text


def test_a_package_found_in_several_files_says_which_file() -> None:
    from dataclasses import replace

    result = sample_result()
    jinja = next(f for f in result.findings if f.package.name == "jinja2")
    copy = replace(
        jinja, package=replace(jinja.package, location="/opt/venv/lib/python3.11/site-packages/x/METADATA")
    )
    text = render_table(replace(result, findings=(*result.findings, copy)), NOW, width=200)
    assert text.count("jinja2") == 2
    assert "/opt/venv/lib/python3.11/site-packages/x/METADATA" in text
    assert "/usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA" in text
    assert (
        "/var/lib/dpkg/status " not in text and "/var/lib/dpkg/status│" not in text
    )  # one place: none shown
