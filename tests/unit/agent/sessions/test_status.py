"""Exit statuses: from subprocess return codes, and the code a client exits with."""

from __future__ import annotations

import signal

from rampart.agent.sessions.status import UNKNOWN_EXIT, ExitStatus


def test_normal_exit_keeps_its_code() -> None:
    status = ExitStatus.from_returncode(7)
    assert status == ExitStatus(code=7, signal=None)
    assert status.exit_code_for_client() == 7


def test_signal_becomes_128_plus_signal() -> None:
    status = ExitStatus.from_returncode(-signal.SIGKILL)
    assert status == ExitStatus(code=None, signal=9)
    assert status.exit_code_for_client() == 137


def test_unknown_end_is_255() -> None:
    assert ExitStatus(code=None, signal=None).exit_code_for_client() == UNKNOWN_EXIT


def test_exit_event() -> None:
    assert ExitStatus(code=0, signal=None).as_event() == {"type": "exit", "code": 0, "signal": None}
