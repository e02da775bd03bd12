"""Session test tools: the test accounts, run async tests with a hang guard, and read a process's output up to a pattern."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rampart.agent.sessions.runas import LoginUser
from unit.link.link_helpers import async_test

__all__ = ["Accounts", "Output", "async_test"]


@dataclass(frozen=True)
class Accounts:
    """The throwaway accounts: two with bash, one whose shell is nologin."""

    alice: LoginUser
    bob: LoginUser
    nologin: LoginUser


class Output:
    """Reads a process's output on demand, keeping what follows each match for the next one."""

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read
        self._pending = b""

    async def until(self, pattern: bytes) -> re.Match[bytes]:
        """Read until ``pattern`` (a regex) matches; fails if the output ends first."""
        while (found := re.search(pattern, self._pending, re.DOTALL)) is None:
            chunk = await self._read()
            if not chunk:
                raise AssertionError(f"output ended before {pattern!r}; got {self._pending[-500:]!r}")
            self._pending += chunk
        self._pending = self._pending[found.end() :]
        return found


async def read_until(read: Callable[[], Awaitable[bytes]], pattern: bytes) -> re.Match[bytes]:
    """Read until ``pattern`` matches, for a single wait (what follows the match is dropped)."""
    return await Output(read).until(pattern)


async def read_all(read: Callable[[], Awaitable[bytes]]) -> bytes:
    """Everything up to the end of output."""
    chunks = []
    while chunk := await read():
        chunks.append(chunk)
    return b"".join(chunks)
