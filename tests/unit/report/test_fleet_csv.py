"""Findings CSV: RFC 4180 shape, formula injection neutralised, control characters escaped, golden file."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from rampart.client.models import Finding
from rampart.report.findings_csv import COLUMNS, render_findings_csv, safe_cell
from unit.client.samples import finding_json, sample_findings

GOLDEN = Path(__file__).parent / "golden" / "fleet_findings.csv"


def test_csv_matches_golden_file() -> None:
    text = render_findings_csv(sample_findings())
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(text.encode())
    assert text.encode() == GOLDEN.read_bytes()


def test_csv_is_rfc4180_and_reads_back() -> None:
    text = render_findings_csv(sample_findings())
    assert text.endswith("\r\n") and text.startswith(",".join(COLUMNS) + "\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + len(sample_findings())
    assert all(len(row) == len(COLUMNS) for row in rows)
    assert rows[2][-1] == 'SSL_select_next_proto buffer overread, "quoted", with a comma'
    assert rows[3][-1] == "line one\nline two\r\n@at start"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\\x09=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        ("x\x1b[2Jy", "x\\x1b[2Jy"),
        ("x\u202ey", "x\\u202ey"),
    ],
)
def test_safe_cell(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_no_cell_starts_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(render_findings_csv(sample_findings()), newline="")))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_hostile_and_huge_values() -> None:
    hostile = Finding.from_json(
        finding_json(package="\x00" * 10 + "=x", summary="s" * 50_000, hostname='a"b,c')
    )
    text = render_findings_csv([hostile])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][3] == "\\x00" * 10 + "=x" and len(rows[1][-1]) == 50_000 and rows[1][1] == 'a"b,c'
    assert "\x00" not in text


def test_no_findings_is_just_the_header() -> None:
    assert render_findings_csv([]) == ",".join(COLUMNS) + "\r\n"
