"""The JSON report: schema, escaping, counts that match the rows, and a golden file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rampart.report.json import SCHEMA, render_json
from unit.report.sample import NOW, sample_result

GOLDEN = Path(__file__).parent / "golden" / "scan.json"


def test_json_matches_golden_file() -> None:
    """The golden file holds the same document indented, so that its diffs can be read."""
    text = render_json(sample_result(), NOW)
    assert text.endswith("}\n") and text.count("\n") == 1
    pretty = json.dumps(json.loads(text), indent=2) + "\n"
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(pretty)
    assert pretty == GOLDEN.read_text()


def test_json_is_ascii_and_keeps_hostile_names_intact() -> None:
    text = render_json(sample_result(), NOW)
    assert text.isascii()
    assert "\x1b" not in text
    document = json.loads(text)
    names = {p["name"] for p in document["packages"]}
    assert "evil\x1b[2J\nname" in names


def test_summary_counts_equal_listed_rows() -> None:
    document = json.loads(render_json(sample_result(), NOW))
    summary = document["summary"]
    assert document["schema"] == SCHEMA
    assert summary["findings"] == len(document["findings"]) == 4
    assert sum(summary["by_severity"].values()) == len(document["findings"])
    assert summary["packages"] == len(document["packages"])
    assert summary["ignored"] == len(document["ignored"]) == 1
    assert summary["errors"] == len(document["errors"])
    assert summary["fixable"] == sum(1 for f in document["findings"] if f["status"] == "fixed") == 3
    assert summary["vulnerable_packages"] == 3


def test_database_age_is_computed_from_injected_clock() -> None:
    document = json.loads(render_json(sample_result(), NOW))
    assert document["database"]["age_hours"] == 48.0


def test_ascii_json_escapes_like_the_standard_library() -> None:
    from rampart.report.json import ascii_json

    document = {"name": "bidi\u202eevil \x1b[2J \U0001f600 ümlaut", "n": [1, 2.5, None, True]}
    text = ascii_json(document)
    assert text.isascii() and "\x1b" not in text
    assert json.loads(text) == document
    assert text == json.dumps(document, separators=(",", ":"))
