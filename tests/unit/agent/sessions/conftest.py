"""Throwaway OS accounts for session tests: two with bash, one with nologin, removed afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from fixtures.accounts import account_tool
from rampart.agent.sessions.runas import resolve_login
from unit.agent.sessions.session_helpers import Accounts


def _create(shell: str) -> str:
    name = "rpt" + secrets.token_hex(3)
    account_tool("useradd", "--create-home", "--shell", shell, name)
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
            account_tool("userdel", "--remove", "--force", name)
