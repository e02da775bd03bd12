"""The pam check: stack expansion (@include, include, substack), arguments versus option files, hostile stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rampart.harden.checks import CHECKS
from rampart.harden.checks.pam import satisfies
from rampart.harden.context import Context
from rampart.harden.facts.pam import read_stack
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

AUTH = "/etc/pam.d/common-auth"


def run(tmp_path: Path, files: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    raw = {"file": AUTH, "module": "pam_faillock.so", **params}
    return CHECKS["pam"].run(raw, Context(build_view(tmp_path, {"files": files})))


@pytest.mark.parametrize(
    ("value", "condition", "expected"),
    [
        ("5", "<= 5", True),
        ("6", "<= 5", False),
        ("0", "> 0 and <= 5", False),
        ("3", "> 0 and <= 5", True),
        ("yescrypt", "== yescrypt", True),
        ("", True, True),
        ("x", False, False),
        ("abc", ">= 3", False),
        ("-1", "<= -1", True),
        ("7", 7, True),
        ("0", "!= 0", False),
    ],
)
def test_conditions(value: str, condition: Any, expected: bool) -> None:
    assert satisfies(value, condition) is expected


def test_bracketed_control_and_continuation_lines(tmp_path: Path) -> None:
    text = "auth [success=1 default=ignore] pam_unix.so \\\n   nullok try_first_pass\n"
    stack = read_stack(build_view(tmp_path, {"files": {"etc/pam.d/common-auth": text}}), AUTH)
    (line,) = stack.lines
    assert (line.control, line.module, line.args) == (
        "[success=1 default=ignore]",
        "pam_unix.so",
        ("nullok", "try_first_pass"),
    )
    assert line.where == f"{AUTH}:1"


def test_substack_takes_only_its_type(tmp_path: Path) -> None:
    files = {
        "etc/pam.d/sshd": "@include common-auth\naccount substack common-account\n",
        "etc/pam.d/common-auth": "auth required pam_unix.so\n",
        "etc/pam.d/common-account": "auth required pam_deny.so\naccount required pam_faillock.so\n",
    }
    stack = read_stack(build_view(tmp_path, {"files": files}), "/etc/pam.d/sshd")
    assert [(line.type, line.module) for line in stack.lines] == [
        ("auth", "pam_unix.so"),
        ("account", "pam_faillock.so"),
    ]


def test_include_loops_and_depth_are_bounded(tmp_path: Path) -> None:
    files = {
        f"etc/pam.d/s{index}": f"@include s{index + 1}\nauth required pam_env.so\n" for index in range(40)
    }
    files["etc/pam.d/loop"] = "@include loop\nauth include loop\nauth required pam_unix.so\n"
    view = build_view(tmp_path, {"files": files})
    assert len(read_stack(view, "/etc/pam.d/s0").lines) <= 18
    loop = read_stack(view, "/etc/pam.d/loop")
    assert [line.module for line in loop.lines] == ["pam_unix.so"]
    assert any("loop" in note for note in loop.notes)


def test_include_outside_pam_d_stays_inside_the_target(tmp_path: Path) -> None:
    outside = tmp_path / "host-pam"
    outside.write_text("auth required pam_faillock.so\n")
    files = {"etc/pam.d/common-auth": f"@include {outside}\n"}
    assert run(tmp_path / "t", files).status is Status.FAIL


def test_garbage_lines_are_noted_and_skipped(tmp_path: Path) -> None:
    text = "\x1b[2J\x00junk\nbogus required pam_x.so\nauth\nauth required pam_faillock.so deny=3\n" * 3
    outcome = run(tmp_path, {"etc/pam.d/common-auth": text}, args={"deny": "<= 5"})
    assert outcome.status is Status.PASS
    (tmp_path / "b").mkdir()
    stack = read_stack(build_view(tmp_path / "b", {"files": {"etc/pam.d/common-auth": text}}), AUTH)
    assert any("unparseable line skipped" in note for note in stack.notes)
    assert all("\x1b" not in note for note in stack.notes)


def test_huge_stack_file(tmp_path: Path) -> None:
    text = "auth optional pam_permit.so\n" * 100_000 + "auth required pam_faillock.so deny=9\n"
    outcome = run(tmp_path, {"etc/pam.d/common-auth": text}, args={"deny": "<= 5"})
    assert outcome.status is Status.FAIL
    assert f"{AUTH}:100001: deny=9 (wanted <= 5)" in outcome.evidence


def test_line_argument_beats_option_file(tmp_path: Path) -> None:
    files = {
        "etc/pam.d/common-auth": "auth required pam_faillock.so deny=10\n",
        "etc/security/faillock.conf": "deny = 3\n",
    }
    outcome = run(tmp_path, files, args={"deny": "<= 5"}, config=["/etc/security/faillock.conf"])
    assert outcome.status is Status.FAIL


def test_later_option_file_wins(tmp_path: Path) -> None:
    files = {
        "etc/pam.d/common-password": "password requisite pam_pwquality.so\n",
        "etc/security/pwquality.conf.d/10.conf": "minlen = 8\n",
        "etc/security/pwquality.conf": "minlen=15\n",
    }
    params = {
        "file": "/etc/pam.d/common-password",
        "module": "pam_pwquality.so",
        "args": {"minlen": ">= 14"},
        "config": ["/etc/security/pwquality.conf.d/*.conf", "/etc/security/pwquality.conf"],
    }
    outcome = CHECKS["pam"].run(params, Context(build_view(tmp_path, {"files": files})))
    assert outcome.status is Status.PASS
    assert "/etc/security/pwquality.conf:1: minlen=15" in outcome.evidence


def test_every_matching_line_must_satisfy(tmp_path: Path) -> None:
    text = "auth requisite pam_faillock.so preauth deny=3\nauth [default=die] pam_faillock.so authfail\n"
    outcome = run(tmp_path, {"etc/pam.d/common-auth": text}, args={"deny": "<= 5"})
    assert outcome.status is Status.FAIL
    assert any(":2: pam_faillock.so has no deny" in line for line in outcome.evidence)


def test_present_false_and_absent_args(tmp_path: Path) -> None:
    files = {"etc/pam.d/common-auth": "auth required /usr/lib/security/pam_unix.so nullok\n"}
    assert run(tmp_path / "a", files, module="pam_unix.so", present=False).status is Status.FAIL
    assert run(tmp_path / "b", files, module="pam_rhosts.so", present=False).status is Status.PASS
    outcome = run(tmp_path / "c", files, module="pam_unix.so", absent_args=["nullok"])
    assert outcome.status is Status.FAIL
    assert f"{AUTH}:1: pam_unix.so has nullok" in outcome.evidence


def test_stack_filter(tmp_path: Path) -> None:
    files = {"etc/pam.d/common-auth": "account required pam_faillock.so\n"}
    assert run(tmp_path / "a", files, stack="auth").status is Status.FAIL
    assert run(tmp_path / "b", files, stack="account").status is Status.PASS


def test_missing_file(tmp_path: Path) -> None:
    assert run(tmp_path / "a", {}).status is Status.NA
    assert run(tmp_path / "b", {}, missing="fail").status is Status.FAIL
