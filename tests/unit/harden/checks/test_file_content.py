"""file_content: present/absent/all_lines_match over globbed files, comments, continuations, hostile files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rampart.harden.checks.file_content import CHECK
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from rampart.harden.view import MAX_TEXT_BYTES
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, params: dict[str, Any], scenario: dict[str, Any] | None = None) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECK.run(params, Context(build_view(tmp_path, scenario or {})))


def text(outcome: Outcome) -> str:
    return " ".join((outcome.reason, *outcome.evidence))


PROFILE = {
    "etc/profile": "umask 022 # weak\n",
    "etc/profile.d/a.sh": "# umask 077\n",
    "etc/profile.d/b.sh": "umask 027\n",
}


def test_present_names_file_and_line(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        {"paths": ["/etc/profile", "/etc/profile.d/*.sh"], "pattern": r"umask\s+027"},
        {"files": PROFILE},
    )
    assert outcome.status is Status.PASS
    assert outcome.evidence == ("/etc/profile.d/b.sh:1: umask 027",)


def test_comments_stripped_unless_raw(tmp_path: Path) -> None:
    view = build_view(tmp_path, {"files": PROFILE})
    params = {"paths": ["/etc/profile.d/*.sh"], "pattern": r"umask\s+077"}
    assert CHECK.run(params, Context(view)).status is Status.FAIL
    assert CHECK.run({**params, "raw": True}, Context(view)).status is Status.PASS


def test_trailing_comment_does_not_hide_the_setting(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        {"paths": ["/etc/profile"], "pattern": r"umask\s+022", "expect": "absent"},
        {"files": PROFILE},
    )
    assert outcome.status is Status.FAIL and "/etc/profile:1" in text(outcome)


def test_all_lines_match(tmp_path: Path) -> None:
    scenario = {"files": {"etc/shells": "# comment\n/bin/sh\n\n/bin/bash\nbash\n"}}
    outcome = run(
        tmp_path, {"paths": ["/etc/shells"], "pattern": r"^/\S+$", "expect": "all_lines_match"}, scenario
    )
    assert outcome.status is Status.FAIL
    assert outcome.evidence[-1] == "/etc/shells:5: bash"


def test_continuation_lines_join(tmp_path: Path) -> None:
    scenario = {"files": {"etc/profile": "export \\\n  TMOUT\n"}}
    outcome = run(tmp_path, {"paths": ["/etc/profile"], "pattern": r"export\s+TMOUT"}, scenario)
    assert outcome.status is Status.PASS and "/etc/profile:1" in outcome.evidence[0]


def test_ignore_case(tmp_path: Path) -> None:
    scenario = {"files": {"etc/issue": "DEBIAN\n"}}
    params = {"paths": ["/etc/issue"], "pattern": "debian", "expect": "absent", "raw": True}
    assert run(tmp_path, params, scenario).status is Status.PASS
    assert run(tmp_path / "b", {**params, "ignore_case": True}, scenario).status is Status.FAIL


@pytest.mark.parametrize(("missing", "status"), [("na", "na"), ("pass", "pass"), ("fail", "fail")])
def test_missing(tmp_path: Path, missing: str, status: str) -> None:
    assert run(
        tmp_path, {"paths": ["/etc/nope", "/etc/nope.d/*"], "pattern": "x", "missing": missing}
    ).status is Status(status)


def test_fifo_is_an_error_not_a_hang_or_a_pass(tmp_path: Path) -> None:
    view = build_view(tmp_path, {"files": {"etc/rsyslog.conf": "ok\n"}})
    (tmp_path / "root" / "etc" / "rsyslog.d").mkdir()
    os.mkfifo(tmp_path / "root" / "etc" / "rsyslog.d" / "x.conf")
    outcome = CHECK.run(
        {"paths": ["/etc/rsyslog.conf", "/etc/rsyslog.d/*.conf"], "pattern": "imtcp", "expect": "absent"},
        Context(view),
    )
    assert outcome.status is Status.ERROR and "not a regular file" in outcome.reason


def test_huge_file_is_an_error(tmp_path: Path) -> None:
    scenario = {"files": {"etc/profile": "a" * (MAX_TEXT_BYTES + 10)}}
    outcome = run(tmp_path, {"paths": ["/etc/profile"], "pattern": "TMOUT", "expect": "absent"}, scenario)
    assert outcome.status is Status.ERROR and "MiB" in outcome.reason


def test_symlink_out_of_the_root_is_resolved_inside(tmp_path: Path) -> None:
    secret = tmp_path / "hostfile"
    secret.write_text("TMOUT=900\n")
    scenario = {"links": {"etc/profile": "/../../../../../../../" + str(secret).lstrip("/")}}
    outcome = run(tmp_path, {"paths": ["/etc/profile"], "pattern": "TMOUT", "missing": "na"}, scenario)
    assert outcome.status is Status.NA, outcome


def test_control_characters_and_long_lines_are_escaped_and_cut(tmp_path: Path) -> None:
    scenario = {"files": {"etc/motd": "Debian \x1b[31mred\x1b[0m \u202e" + "x" * 500 + "\n"}}
    outcome = run(
        tmp_path, {"paths": ["/etc/motd"], "pattern": "Debian", "expect": "absent", "raw": True}, scenario
    )
    assert outcome.status is Status.FAIL
    shown = outcome.evidence[0]
    assert "\x1b" in shown and "\u202e" in shown and len(shown) < 160  # kept raw, cut: reporters escape


def test_binary_and_truncated_garbage_does_not_crash(tmp_path: Path) -> None:
    scenario = {"files": {"etc/profile": bytes(range(256)) * 50 + b"\xff\xfe TMOUT=9"}}
    outcome = run(tmp_path, {"paths": ["/etc/profile"], "pattern": r"TMOUT=9\b"}, scenario)
    assert outcome.status is Status.PASS


def test_directories_matched_by_a_glob_are_skipped(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "etc/dconf/db/local.d/00-x": "autorun-never=true\n",
            "etc/dconf/db/local.d/locks/00-x": "/org/gnome/x\n",
        }
    }
    outcome = run(tmp_path, {"paths": ["/etc/dconf/db/*.d/*"], "pattern": "autorun-never=true"}, scenario)
    assert outcome.status is Status.PASS


def test_bad_regex_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        CHECK.params.model_validate({"paths": ["/x"], "pattern": "(unclosed"})
