"""sudoers: Defaults options across includes, scoped and negated options, NOPASSWD and !authenticate, hostile files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rampart.harden.checks.sudoers import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

MAIN = "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"


def run(
    tmp_path: Path, params: dict[str, Any], drop_ins: dict[str, str] | None = None, main: str = MAIN
) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {"etc/sudoers": main}
    files.update({f"etc/sudoers.d/{name}": text for name, text in (drop_ins or {}).items()})
    return CHECK.run(params, Context(build_view(tmp_path, {"files": files})))


def text(outcome: Outcome) -> str:
    return " ".join((outcome.reason, *outcome.evidence))


PTY = {"option": "use_pty"}


@pytest.mark.parametrize(
    ("drop_ins", "status"),
    [
        ({"a": "Defaults use_pty\n"}, "pass"),
        ({"a": "Defaults env_reset,use_pty, mail_badpass\n"}, "pass"),
        ({"a": "Defaults use_pty\n", "b": "Defaults !use_pty\n"}, "fail"),
        ({"a": "Defaults !use_pty\n", "b": "Defaults use_pty\n"}, "pass"),
        ({"a": "Defaults:alice use_pty\n"}, "fail"),
        ({"a": "Defaults>root use_pty\n"}, "fail"),
        ({"a": "# Defaults use_pty\n"}, "fail"),
        ({"a.conf": "Defaults use_pty\n"}, "fail"),
        ({"a~": "Defaults use_pty\n"}, "fail"),
        ({}, "fail"),
    ],
)
def test_use_pty(tmp_path: Path, drop_ins: dict[str, str], status: str) -> None:
    assert run(tmp_path, PTY, drop_ins).status is Status(status)


def test_old_style_includedir_and_include(tmp_path: Path) -> None:
    main = "#includedir /etc/sudoers.d\n#include /etc/sudoers.local\n"
    view = build_view(tmp_path, {"files": {"etc/sudoers": main, "etc/sudoers.local": "Defaults use_pty\n"}})
    assert CHECK.run(PTY, Context(view)).status is Status.PASS


def test_relative_include(tmp_path: Path) -> None:
    view = build_view(
        tmp_path,
        {"files": {"etc/sudoers": "@include sudoers.extra\n", "etc/sudoers.extra": "Defaults use_pty\n"}},
    )
    assert CHECK.run(PTY, Context(view)).status is Status.PASS


def test_include_loop_is_noted_not_followed(tmp_path: Path) -> None:
    outcome = run(
        tmp_path, PTY, {"loop": "@include /etc/sudoers\n@includedir /etc/sudoers.d\nDefaults use_pty\n"}
    )
    assert outcome.status is Status.PASS and "include loop" in text(outcome)


def test_values_and_defaults(tmp_path: Path) -> None:
    params = {"option": "timestamp_timeout", "op": "le", "value": 15, "default": 15}
    assert run(tmp_path / "a", params).status is Status.PASS
    assert run(tmp_path / "b", params, {"t": "Defaults timestamp_timeout=30\n"}).status is Status.FAIL
    assert (
        run(
            tmp_path / "c", {**params, "op": "ge", "value": 0}, {"t": "Defaults timestamp_timeout=-1\n"}
        ).status
        is Status.FAIL
    )
    assert (
        run(tmp_path / "d", {"option": "logfile"}, {"l": 'Defaults logfile="/var/log/sudo, log"\n'}).status
        is Status.PASS
    )
    outcome = run(
        tmp_path / "e",
        {"option": "logfile", "op": "regex", "value": "/var/log/.*"},
        {"l": "Defaults !logfile\n"},
    )
    assert outcome.status is Status.FAIL


def test_nopasswd(tmp_path: Path) -> None:
    params = {"assert": "no_nopasswd"}
    assert run(tmp_path / "a", params, {"ok": "# ci ALL=(ALL) NOPASSWD: ALL\n"}).status is Status.PASS
    outcome = run(tmp_path / "b", params, {"ci": "ci ALL=(ALL) \\\n   NOPASSWD: /usr/bin/apt\n"})
    assert outcome.status is Status.FAIL and "/etc/sudoers.d/ci:1" in text(outcome)


def test_authenticate_disabled(tmp_path: Path) -> None:
    params = {"assert": "no_authenticate_disabled"}
    assert run(tmp_path / "a", params).status is Status.PASS
    assert run(tmp_path / "b", params, {"x": "Defaults:ops !authenticate\n"}).status is Status.FAIL
    assert run(tmp_path / "c", params, {"x": "Defaults env_reset, ! authenticate\n"}).status is Status.FAIL


def test_no_sudoers_is_na(tmp_path: Path) -> None:
    outcome = CHECK.run(PTY, Context(build_view(tmp_path, {})))
    assert outcome.status is Status.NA


def test_fifo_and_huge_drop_ins_are_skipped_with_a_note(tmp_path: Path) -> None:
    view = build_view(
        tmp_path,
        {
            "files": {
                "etc/sudoers": MAIN,
                "etc/sudoers.d/big": "x" * (5 << 20),
                "etc/sudoers.d/ok": "Defaults use_pty\n",
            }
        },
    )
    os.mkfifo(tmp_path / "root" / "etc" / "sudoers.d" / "fifo")
    outcome = CHECK.run(PTY, Context(view))
    assert outcome.status is Status.PASS
    assert "not a regular file" in text(outcome) and "MiB" in text(outcome)


def test_garbage_and_control_characters(tmp_path: Path) -> None:
    garbage = (
        'Defaults\nDefaults ,,,=\nDefaults \x1b[2J=1\n\x00\x01\nDefaults use_pty="unterminated\n'
        + "A" * 10_000
        + "\n"
    )
    outcome = run(
        tmp_path, {"assert": "no_nopasswd"}, {"g": garbage + "evil ALL=NOPASSWD: \x1b]0;pwned\x07 ALL\n"}
    )
    assert outcome.status is Status.FAIL
    assert "\x1b" in text(outcome) and "\x07" in text(outcome)  # kept raw: reporters escape


def test_one_question_only() -> None:
    with pytest.raises(ValidationError):
        CHECK.params.model_validate({})
    with pytest.raises(ValidationError):
        CHECK.params.model_validate({"option": "use_pty", "assert": "no_nopasswd"})
