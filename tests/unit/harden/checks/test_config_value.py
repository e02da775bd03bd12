"""config_value: key/value files with separators, sections, drop-ins, precedence, defaults and hostile values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks.config_value import CHECK, split_line
from rampart.harden.context import Context
from rampart.harden.facts.values import compare
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, params: dict[str, Any], files: dict[str, Any] | None = None) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECK.run(params, Context(build_view(tmp_path, {"files": files or {}})))


LOGIN = {
    "etc/login.defs": '# PASS_MAX_DAYS 99999\nPASS_MAX_DAYS\t365\nPASS_MIN_DAYS 0\nUMASK 022\nENCRYPT_METHOD "SHA512"\n'
}
LD = {"paths": ["/etc/login.defs"], "separator": "whitespace"}


@pytest.mark.parametrize(
    ("key", "op", "value", "status"),
    [
        ("PASS_MAX_DAYS", "le", 365, "pass"),
        ("PASS_MAX_DAYS", "lt", 365, "fail"),
        ("PASS_MAX_DAYS", "eq", "365", "pass"),
        ("PASS_MIN_DAYS", "ge", 1, "fail"),
        ("PASS_MIN_DAYS", "in", [0, 1], "pass"),
        ("PASS_MIN_DAYS", "not_in", [0], "fail"),
        ("ENCRYPT_METHOD", "regex", "(?i)sha512|yescrypt", "pass"),
        ("ENCRYPT_METHOD", "eq", "SHA512", "pass"),
        ("UMASK", "ne", "022", "fail"),
        ("UMASK", "present", None, "pass"),
        ("UMASK", "absent", None, "fail"),
        ("NOT_THERE", "absent", None, "pass"),
        ("NOT_THERE", "eq", 1, "fail"),
    ],
)
def test_ops(tmp_path: Path, key: str, op: str, value: Any, status: str) -> None:
    outcome = run(tmp_path, {**LD, "key": key, "op": op, "value": value}, LOGIN)
    assert outcome.status is Status(status), outcome


def test_evidence_names_the_line(tmp_path: Path) -> None:
    outcome = run(tmp_path, {**LD, "key": "PASS_MAX_DAYS", "op": "le", "value": 90}, LOGIN)
    assert outcome.evidence[0] == "/etc/login.defs:2: PASS_MAX_DAYS = 365 (expected <= 90)"


def test_section_and_drop_in_override(tmp_path: Path) -> None:
    files = {
        "etc/systemd/journald.conf": "[Journal]\nStorage=volatile\n[Other]\nStorage=persistent\n",
        "etc/systemd/journald.conf.d/10-a.conf": "[Journal]\nStorage=persistent\n",
        "etc/systemd/journald.conf.d/20-b.conf": "[Journal]\n#Storage=auto\n",
    }
    params = {
        "paths": ["/etc/systemd/journald.conf", "/etc/systemd/journald.conf.d/*.conf"],
        "section": "Journal",
        "key": "Storage",
        "op": "eq",
        "value": "persistent",
    }
    outcome = run(tmp_path, params, files)
    assert outcome.status is Status.PASS
    assert "10-a.conf:2" in outcome.evidence[0] and "overridden" in outcome.evidence[1]
    assert run(tmp_path / "b", {**params, "precedence": "first"}, files).status is Status.FAIL


def test_default_and_missing(tmp_path: Path) -> None:
    files = {"etc/default/useradd": "SHELL=/bin/sh\n"}
    params = {"paths": ["/etc/default/useradd"], "key": "INACTIVE", "op": "le", "value": 45}
    outcome = run(tmp_path, {**params, "default": -1, "op": "ge", "value": 0}, files)
    assert outcome.status is Status.FAIL and "program default -1" in outcome.evidence[0]
    assert run(tmp_path / "b", {**params, "missing": "na"}, files).status is Status.NA
    assert run(tmp_path / "c", {**params, "missing": "pass"}, files).status is Status.PASS
    assert run(tmp_path / "d", params, files).status is Status.FAIL


def test_no_file_at_all(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"paths": ["/etc/nothing"], "key": "X", "op": "eq", "value": 1})
    assert outcome.status is Status.FAIL and "no file present" in outcome.evidence[0]


def test_ignore_case_key_and_quotes(tmp_path: Path) -> None:
    files = {"etc/gdm3/custom.conf": "[xdmcp]\nenable = 'true'\n"}
    params = {
        "paths": ["/etc/gdm3/custom.conf"],
        "section": "xdmcp",
        "key": "Enable",
        "op": "eq",
        "value": "true",
    }
    assert run(tmp_path, params, files).status is Status.FAIL
    assert run(tmp_path / "b", {**params, "ignore_case_key": True}, files).status is Status.PASS
    assert (
        run(tmp_path / "c", {**params, "ignore_case_key": True, "strip_quotes": False}, files).status
        is Status.FAIL
    )


def test_colon_separator(tmp_path: Path) -> None:
    files = {"etc/x.conf": "retry: 3\nbad line\n"}
    assert (
        run(
            tmp_path,
            {"paths": ["/etc/x.conf"], "key": "retry", "separator": ":", "op": "le", "value": 3},
            files,
        ).status
        is Status.PASS
    )


def test_non_numeric_values_fail_ordering_without_crashing(tmp_path: Path) -> None:
    files = {"etc/login.defs": "PASS_MAX_DAYS 3\x1b[2J65\nUMASK nan\n"}
    outcome = run(tmp_path, {**LD, "key": "PASS_MAX_DAYS", "op": "le", "value": 365}, files)
    assert outcome.status is Status.FAIL and "\x1b" in outcome.evidence[0]  # kept raw: reporters escape
    assert run(tmp_path / "b", {**LD, "key": "UMASK", "op": "lt", "value": 1}, files).status is Status.FAIL


def test_garbage_and_huge_lines(tmp_path: Path) -> None:
    garbage = "\x00\x01=\n=\n[unterminated\n" + "K" * 200_000 + "=1\n" + "PASS_MAX_DAYS=30\n"
    outcome = run(
        tmp_path, {"paths": ["/etc/x"], "key": "PASS_MAX_DAYS", "op": "le", "value": 365}, {"etc/x": garbage}
    )
    assert outcome.status is Status.PASS


def test_split_line() -> None:
    assert split_line("KEY value with spaces", "whitespace") == ("KEY", "value with spaces")
    assert split_line("KEY", "whitespace") == ("KEY", "")
    assert split_line("a = b = c", "=") == ("a", "b = c")
    assert split_line("novalue", "=") is None


@pytest.mark.parametrize(
    ("actual", "op", "expected", "result"),
    [
        ("10", "lt", 11, True),
        ("010", "eq", 10, True),
        ("-1", "ge", 0, False),
        ("1e9", "gt", 1, False),
        ("yes", "in", ["yes", "true"], True),
        ("abc", "regex", "a.c", True),
        ("abcd", "regex", "a.c", False),
        ("9" * 40, "gt", 1, False),
        ("1.5", "le", 2, True),
    ],
)
def test_compare(actual: str, op: Any, expected: Any, result: bool) -> None:
    assert compare(actual, op, expected) is result
