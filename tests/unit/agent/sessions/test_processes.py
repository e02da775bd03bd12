"""Finding a session's processes in /proc: the stat parser against odd, truncated and hostile input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampart.agent.sessions.processes import session_groups, session_of, working_directory
from rampart.agent.sessions.runas import LoginUser


def test_ordinary_stat_line() -> None:
    assert session_of("1234 (bash) S 1 1234 1234 34816 1234 4194560 ...") == (1234, 1234)


@pytest.mark.parametrize(
    "comm", ["a) S 1 2 3 (", ") R 9 9 9", "x y z", "((()))", "\n", "é\udcff", "a" * 1000]
)
def test_command_names_cannot_fake_the_fields(comm: str) -> None:
    assert session_of(f"99 ({comm}) S 1 500 600 0 -1") == (500, 600)


@pytest.mark.parametrize(
    "stat",
    ["", "99", "99 (x)", "99 (x) S 1", "99 (x) S 1 2", "99 (x) S 1 -2 3", "99 (x) S 1 a b", "\x00" * 100],
)
def test_truncated_or_malformed_stat_is_skipped(stat: str) -> None:
    assert session_of(stat) is None


@pytest.mark.parametrize("state", ["Z", "X"])
def test_dead_processes_do_not_count(state: str) -> None:
    assert session_of(f"99 (x) {state} 1 500 600") is None


def test_huge_stat_text_is_handled() -> None:
    assert session_of("1 (" + ")" * 100_000 + ") S 1 7 8" + " 0" * 100_000) == (7, 8)


def test_session_groups_reads_a_proc_tree(tmp_path: Path) -> None:
    for pid, text in {"10": "10 (a) S 1 10 10", "11": "11 (b) S 10 11 10", "12": "12 (c) S 1 12 12"}.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "stat").write_text(text)
    (tmp_path / "13").mkdir()  # a process gone while /proc is read
    (tmp_path / "self").mkdir()
    assert session_groups(10, proc=tmp_path) == {10, 11}


def test_session_groups_of_this_process() -> None:
    assert os.getpgrp() in session_groups(os.getsid(0))


def test_missing_proc_means_no_processes(tmp_path: Path) -> None:
    assert session_groups(1, proc=tmp_path / "absent") == set()


def test_working_directory_falls_back_to_root(tmp_path: Path) -> None:
    user = LoginUser(name="u", uid=1, gid=1, groups=(), home=str(tmp_path / "gone"), shell="/bin/sh")
    assert working_directory(user) == "/"
    assert working_directory(LoginUser("u", 1, 1, (), str(tmp_path), "/bin/sh")) == str(tmp_path)
