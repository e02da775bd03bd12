"""The argument parsers of ``rampart session``: forward specs, HOST:PATH, remote command lines, exit codes."""

from __future__ import annotations

import os
import pty
import termios
from pathlib import Path

import pytest

from rampart.cli.session import ForwardSpec, command_line, copy_plan, parse_forward, split_remote
from rampart.cli.session_io import exit_status, outcome, raw_terminal
from rampart.errors import UsageError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("db:5432", ForwardSpec(5432, "db:5432")),
        ("15432:db.internal:5432", ForwardSpec(15432, "db.internal:5432")),
        ("0:10.0.0.7:80", ForwardSpec(0, "10.0.0.7:80")),
        ("[::1]:22", ForwardSpec(22, "[::1]:22")),
        ("2222:[fe80::1]:22", ForwardSpec(2222, "[fe80::1]:22")),
        ("1234:5432", ForwardSpec(5432, "1234:5432")),
    ],
)
def test_forward_specs(spec: str, expected: ForwardSpec) -> None:
    assert parse_forward(spec) == expected


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("h:", "port number is missing"),
        (":p", "expected [LOCAL_PORT:]HOST:PORT"),
        ("h:70000", "out of range"),
        ("h:0", "out of range"),
        ("h:x", "'x' is not a number"),
        ("h:٣", "is not a number"),
        ("h", "expected [LOCAL_PORT:]HOST:PORT"),
        ("99999:h:22", "out of range"),
        ("a:h:22", "'a' is not a number"),
        (":h:22", "port number is missing"),
        ("h h:22", "not a host name"),
        ("x[::1]:22", "expected"),
        ("h\x1b[2J:22", "not a host name"),
        ("h" * 300 + ":22", "not a host name"),
        ("h:" + "9" * 5000, "out of range"),
        ("h:" + "0" * 5000 + "22", "out of range"),
    ],
)
def test_bad_forward_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_forward(spec)
    assert words in error.value.message


def test_host_path_splits_at_the_first_colon() -> None:
    assert split_remote("web-1:/tmp/a:b") == ("web-1", "/tmp/a:b")
    assert split_remote("./a:b") is None
    assert split_remote("/abs/path") is None
    assert split_remote("plain") is None
    with pytest.raises(UsageError, match="no remote path"):
        split_remote("h:")
    with pytest.raises(UsageError, match="no host"):
        split_remote(":p")
    with pytest.raises(UsageError) as error:
        split_remote(":" + "\x1b[2J" * 1000)
    assert "\x1b" not in error.value.message and len(error.value.message) < 200


def test_copy_plans(tmp_path: Path) -> None:
    up = copy_plan(str(tmp_path / "f.txt"), "web-1:/srv/")
    assert (up.direction, up.host, up.remote) == ("upload", "web-1", "/srv/f.txt")
    down = copy_plan("web-1:/etc/hosts", str(tmp_path))
    assert (down.direction, down.remote, down.local) == ("download", "/etc/hosts", tmp_path / "hosts")
    assert copy_plan("web-1:/x", "./a:b").local == Path("./a:b")
    for source, destination in (("a", "b"), ("h:a", "g:b"), ("h:", "x"), (":p", "x")):
        with pytest.raises(UsageError):
            copy_plan(source, destination)


def test_command_lines_follow_ssh() -> None:
    assert command_line(["--", "ls", "-l"]) == "ls -l"
    assert command_line(["rsync", "--server", "."]) == "rsync --server ."
    assert command_line(["--", "--"]) == "--"
    for words in ([], ["--"]):
        with pytest.raises(UsageError):
            command_line(words)


def test_exit_statuses() -> None:
    assert exit_status({"type": "exit", "code": 0, "signal": None}) == 0
    assert exit_status({"type": "exit", "code": 42}) == 42
    assert exit_status({"type": "exit", "code": None, "signal": 15}) == 143
    for odd in ({"code": 999}, {"code": -1}, {"code": True}, {"code": "1"}, {"signal": 500}, {}):
        assert exit_status({"type": "exit", **odd}) == 255
    assert outcome({"type": "end", "reason": "idle"}) == (255, "[session ended: idle]")
    assert outcome({"type": "error", "message": "no pty"}) == (255, "rampart: remote error: no pty")
    assert outcome({"type": "started", "pid": 1, "login": "a"}) is None


def test_raw_mode_is_restored_even_when_the_session_fails() -> None:
    leader, follower = pty.openpty()
    try:
        before = termios.tcgetattr(follower)
        with pytest.raises(RuntimeError), raw_terminal(follower):
            assert termios.tcgetattr(follower) != before
            raise RuntimeError("boom")
        assert termios.tcgetattr(follower) == before
    finally:
        os.close(leader)
        os.close(follower)
