"""Throwaway OS accounts for session tests: two with bash, one with nologin, removed afterwards."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from rampart.agent.sessions.runas import resolve_login
from unit.agent.sessions.session_helpers import Accounts

ACCOUNT_TOOL_ATTEMPTS = 20


def _account_tool(*argv: str) -> None:
    """useradd/userdel, retried while another worker holds the account files' lock."""
    for _ in range(ACCOUNT_TOOL_ATTEMPTS):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip()}")


def _create(shell: str) -> str:
    name = "rpt" + secrets.token_hex(3)
    _account_tool("useradd", "--create-home", "--shell", shell, name)
    return name


@pytest.fixture(scope="session")
def accounts() -> Iterator[Accounts]:
    if os.geteuid() != 0:
        pytest.skip("session tests create OS accounts and need root")
    names: list[str] = []
    try:
        for shell in ("/bin/bash", "/bin/bash", "/usr/sbin/nologin"):
            names.append(_create(shell))
        users = [resolve_login(name, allow_root=False) for name in names]
        yield Accounts(*users)
    finally:
        for name in names:
            _account_tool("userdel", "--remove", "--force", name)
