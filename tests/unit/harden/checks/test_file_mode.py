"""file_mode: this-or-stricter modes, owner/group sets resolved through the target, globs, recursion, hostile trees."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rampart.harden.checks.file_mode import CHECK, parse_mode
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, params: dict[str, Any], scenario: dict[str, Any] | None = None) -> Outcome:
    view = build_view(tmp_path, scenario or {})
    return CHECK.run(params, Context(view))


def text(outcome: Outcome) -> str:
    return " ".join((outcome.reason, *outcome.evidence))


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (0o640, "pass"),
        (0o600, "pass"),
        (0o400, "pass"),
        (0o000, "pass"),
        (0o644, "fail"),
        (0o660, "fail"),
        (0o740, "fail"),
        (0o4640, "fail"),
        (0o2640, "fail"),
        (0o1640, "fail"),
    ],
)
def test_this_or_stricter(tmp_path: Path, mode: int, status: str) -> None:
    scenario = {"files": {"etc/shadow": {"content": "", "mode": mode, "gid": 42}}}
    outcome = run(tmp_path, {"path": "/etc/shadow", "mode": "0640"}, scenario)
    assert outcome.status is Status(status), outcome
    if status == "fail":
        assert f"mode {mode:04o} (allowed at most 0640)" in text(outcome)


def test_owner_and_group_resolve_through_the_target(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "etc/group": "root:x:0:\nshadow:x:77:\n",
            "etc/x": {"content": "", "mode": 0o600, "gid": 77},
        }
    }
    outcome = run(
        tmp_path, {"path": "/etc/x", "mode": "0640", "owner": ["root"], "group": ["shadow"]}, scenario
    )
    assert outcome.status is Status.PASS, outcome
    assert "group 77 (shadow)" in text(outcome)


def test_group_named_but_absent_from_the_target_is_not_allowed(tmp_path: Path) -> None:
    scenario = {"files": {"etc/x": {"content": "", "mode": 0o600, "gid": 5}}}
    outcome = run(tmp_path, {"path": "/etc/x", "group": ["tty"]}, scenario)
    assert outcome.status is Status.FAIL
    assert "group 5 (allowed tty)" in text(outcome)


def test_numeric_ids_and_root_without_a_passwd_file(tmp_path: Path) -> None:
    scenario = {"base": "none", "files": {"etc/x": {"content": "", "mode": 0o600, "uid": 0, "gid": 3}}}
    outcome = run(tmp_path, {"path": "/etc/x", "owner": ["root"], "group": [3, "root"]}, scenario)
    assert outcome.status is Status.PASS


def test_wrong_owner(tmp_path: Path) -> None:
    scenario = {"files": {"etc/x": {"content": "", "mode": 0o600, "uid": 1000}}}
    outcome = run(tmp_path, {"path": "/etc/x", "owner": ["root", "daemon"]}, scenario)
    assert outcome.status is Status.FAIL
    assert "owner 1000 (allowed root, daemon)" in text(outcome)


@pytest.mark.parametrize(("missing", "status"), [("na", "na"), ("pass", "pass"), ("fail", "fail")])
def test_missing(tmp_path: Path, missing: str, status: str) -> None:
    assert run(tmp_path, {"path": "/etc/nothing", "missing": missing}).status is Status(status)


def test_dangling_link_counts_as_missing(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"path": "/etc/motd"}, {"links": {"etc/motd": "/nowhere"}})
    assert outcome.status is Status.NA


def test_link_pointing_outside_the_root_stays_inside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("secret")
    outside.chmod(0o666)
    scenario = {"links": {"etc/motd": "../../../../../../" + str(outside).lstrip("/")}}
    outcome = run(tmp_path, {"path": "/etc/motd", "mode": "0644"}, scenario)
    assert outcome.status is Status.NA, outcome  # resolved inside the root, where nothing is


def test_link_followed_inside_the_root(tmp_path: Path) -> None:
    scenario = {
        "files": {"usr/share/real": {"content": "", "mode": 0o666}},
        "links": {"etc/motd": "/usr/share/real"},
    }
    assert run(tmp_path, {"path": "/etc/motd", "mode": "0644"}, scenario).status is Status.FAIL


def test_fifo_is_judged_by_kind(tmp_path: Path) -> None:
    view = build_view(tmp_path, {})
    os.mkfifo(tmp_path / "root" / "etc" / "crontab", 0o600)
    context = Context(view)
    assert CHECK.run({"path": "/etc/crontab", "mode": "0600", "kind": "file"}, context).status is Status.FAIL
    assert CHECK.run({"path": "/etc/crontab", "mode": "0600"}, context).status is Status.PASS


def test_glob_checks_every_match(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "etc/security/opasswd": {"content": "", "mode": 0o600},
            "etc/security/opasswd.old": {"content": "", "mode": 0o644},
        }
    }
    outcome = run(tmp_path, {"path": "/etc/security/opasswd*", "mode": "0600"}, scenario)
    assert outcome.status is Status.FAIL
    assert "opasswd.old" in text(outcome) and "/etc/security/opasswd:" not in text(outcome)


def test_recursive_with_match_exclude_kind_and_links_not_followed(tmp_path: Path) -> None:
    scenario = {
        "files": {
            "var/log/syslog": {"content": "", "mode": 0o640},
            "var/log/wtmp": {"content": "", "mode": 0o664},
            "var/log/apt/term.log": {"content": "", "mode": 0o600},
            "srv/open": {"content": "", "mode": 0o666},
        },
        "links": {"var/log/escape": "/srv/open"},
    }
    params = {"path": "/var/log", "mode": "0640", "recursive": True, "kind": "file", "exclude": ["*wtmp*"]}
    assert run(tmp_path, params, scenario).status is Status.PASS


def test_recursive_finds_deep_entries_and_caps_evidence(tmp_path: Path) -> None:
    files = {f"var/log/d{i}/f{i}.log": {"content": "", "mode": 0o644} for i in range(30)}
    outcome = run(
        tmp_path, {"path": "/var/log", "mode": "0640", "recursive": True, "kind": "file"}, {"files": files}
    )
    assert outcome.status is Status.FAIL
    assert len(outcome.evidence) == 21 and outcome.evidence[-1] == "... and 10 more"


def test_recursive_dir_mode(tmp_path: Path) -> None:
    scenario = {
        "dirs": {"etc/cron.d": {"mode": 0o755}},
        "files": {"etc/cron.d/job": {"content": "", "mode": 0o600}},
    }
    params = {"path": "/etc/cron.d", "mode": "0600", "dir_mode": "0700", "recursive": True}
    outcome = run(tmp_path, params, scenario)
    assert outcome.status is Status.FAIL
    assert "/etc/cron.d: mode 0755 (allowed at most 0700)" in text(outcome)


def test_control_characters_in_names_are_escaped(tmp_path: Path) -> None:
    scenario = {"files": {"var/log/evil\x1b[2J.log": {"content": "", "mode": 0o666}}}
    outcome = run(tmp_path, {"path": "/var/log", "mode": "0640", "recursive": True, "kind": "file"}, scenario)
    assert outcome.status is Status.FAIL
    assert "\x1b" in text(outcome)  # kept raw: reporters escape


@pytest.mark.parametrize("bad", ["0999", "rw-r--r--", "", "123456", "0o640"])
def test_bad_modes_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_mode(bad)
    with pytest.raises(ValidationError):
        CHECK.params.model_validate({"path": "/x", "mode": bad})


def test_unknown_parameter_rejected() -> None:
    with pytest.raises(ValidationError):
        CHECK.params.model_validate({"path": "/x", "perms": "0640"})


def test_garbage_passwd_does_not_crash(tmp_path: Path) -> None:
    garbage = (
        "root:x:0:0\n\x00\x01:::\nbob:x:notanumber:1\n"
        + "x" * 100_000
        + "\nshadow\n:x:5:\nalice:x:99999999999999:0\n"
    )
    scenario = {"files": {"etc/group": garbage, "etc/x": {"content": "", "mode": 0o600, "gid": 0}}}
    assert (
        run(tmp_path, {"path": "/etc/x", "group": ["root", "bob", "alice"]}, scenario).status is Status.PASS
    )
