"""The fim check reports: golden files, hostile names shown unambiguously, summaries equal to the rows,
and the documented exit status bits."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rampart.fim.model import Attr, AttrChange, Cause, Change, ChangeKind, CheckResult, Entry, Kind
from rampart.fim.outcome import exit_status, listed
from rampart.report.fim_json import render_fim_json
from rampart.report.fim_table import render_fim_table

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FILE = Entry(b"/x", Kind.FILE)


def _change(path: bytes, kind: ChangeKind, cause: Cause = Cause.UNEXPLAINED, **extra: object) -> Change:
    before = None if kind is ChangeKind.ADDED else FILE
    after = None if kind is ChangeKind.REMOVED else FILE
    return Change(path, kind, before=before, after=after, cause=cause, **extra)  # type: ignore[arg-type]


def sample() -> CheckResult:
    mode = AttrChange(Attr.MODE, "0755", "4755")
    digest = AttrChange(Attr.HASH, "a" * 64, "b" * 64)
    link = AttrChange(Attr.LINK, "/usr/bin/vim.basic", "/tmp/\x1b[2Jevil\nfake line")
    changes = (
        _change(b"/usr/bin/passwd", ChangeKind.CHANGED, attrs=(mode,)),
        _change(
            b"/usr/bin/env", ChangeKind.CHANGED, Cause.PACKAGE_MODIFIED, attrs=(digest,), package="coreutils"
        ),
        _change(b"/usr/bin/vi", ChangeKind.CHANGED, attrs=(link,)),
        _change(b"/usr/bin/jq", ChangeKind.ADDED, Cause.PACKAGE, package="jq"),
        _change(
            b"/usr/lib/python3/x/__pycache__/y.pyc",
            ChangeKind.CHANGED,
            Cause.GENERATED,
            attrs=(digest,),
            note="bytecode cache of a .py beside it",
        ),
        _change(b"/etc/cron.d/\xffhidden" + "\u202e".encode(), ChangeKind.ADDED),
        _change(b"/etc/\\x1b", ChangeKind.REMOVED),
    )
    errors = ((b"/root/.ssh/secret\n", "permission denied"),)
    return CheckResult(changes, errors, entries=1234, hashed=12, baseline_created="2026-11-27T10:00:00+00:00")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_table_matches_golden_file() -> None:
    result = sample()
    _golden("fim_check.txt", render_fim_table(result, listed(result, only_review=False), width=140))


def test_json_matches_golden_file() -> None:
    result = sample()
    _golden("fim_check.json", render_fim_json(result, listed(result, only_review=False), NOW))


def test_no_name_can_move_the_cursor_or_forge_a_line() -> None:
    result = sample()
    for text in (
        render_fim_table(result, result.changes, width=400),
        render_fim_json(result, result.changes, NOW),
    ):
        assert "\x1b" not in text and "\u202e" not in text
    table = render_fim_table(result, result.changes, width=400)
    assert sum("fake line" in line for line in table.splitlines()) == 1
    assert "/etc/\\\\x1b" in table and "/etc/cron.d/\\xffhidden\\u202e" in table


def test_json_keeps_the_exact_bytes_of_names_it_had_to_escape() -> None:
    import base64

    document = json.loads(render_fim_json(sample(), sample().changes, NOW))
    odd = [c for c in document["changes"] if "path_b64" in c]
    assert {base64.b64decode(c["path_b64"]) for c in odd} == {
        b"/etc/cron.d/\xffhidden" + "\u202e".encode(),
        b"/etc/\\x1b",
    }


@pytest.mark.parametrize("only_review", [False, True])
def test_the_summary_counts_exactly_the_rows_listed(only_review: bool) -> None:
    result = sample()
    shown = listed(result, only_review)
    document = json.loads(render_fim_json(result, shown, NOW))
    summary = document["summary"]
    assert summary["total"] == len(document["changes"]) == len(shown)
    assert sum(summary["by_cause"].values()) == summary["total"]
    assert summary["added"] + summary["removed"] + summary["changed"] == summary["total"]
    assert summary["hidden"] == len(result.changes) - len(shown)
    table = render_fim_table(result, shown, width=400)
    assert f"{summary['total']} changes: " in table.splitlines()[-1]


def test_exit_bits_count_what_needs_review() -> None:
    result = sample()
    assert exit_status(result) == 1 | 2 | 4 | 8
    explained = CheckResult(tuple(c for c in result.changes if c.cause in (Cause.PACKAGE, Cause.GENERATED)))
    assert exit_status(explained) == 0 and exit_status(explained, strict=True) == 1 | 4
    only_removed = CheckResult((_change(b"/a", ChangeKind.REMOVED),))
    assert exit_status(only_removed) == 2 and exit_status(CheckResult(())) == 0
