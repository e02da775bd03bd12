"""What every session process shares: how it is started as the user, and how its whole session is ended.

Each process starts in a new session (its pid is the session id), so ending it means signalling every
process group of that session, found in /proc, not only the leader's group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from rampart.agent.sessions.environment import LOGIN_DEFS, login_environment, read_login_defs
from rampart.agent.sessions.runas import LoginUser
from rampart.errors import SessionProcessError

PROC = Path("/proc")
# How often a teardown looks again for processes left in the session.
DRAIN_POLL = 0.05
# How long killed processes are given to disappear.
KILL_SETTLE = 2.0


def working_directory(user: LoginUser) -> str:
    """The user's home, or / when it does not exist."""
    return user.home if Path(user.home).is_dir() else "/"


def spawn_options(user: LoginUser, term: str | None) -> dict[str, Any]:
    """Keyword arguments for `subprocess.Popen` / `asyncio.create_subprocess_exec` to run as ``user``."""
    return {
        "user": user.uid,
        "group": user.gid,
        "extra_groups": list(user.groups),
        "cwd": working_directory(user),
        "env": login_environment(user, term),
        "umask": read_login_defs(LOGIN_DEFS).umask,
        "start_new_session": True,
        "close_fds": True,
    }


def start_failure(user: LoginUser, program: str, exc: OSError) -> SessionProcessError:
    """A one-line error for a process that could not be started."""
    reason = exc.strerror or type(exc).__name__
    return SessionProcessError(f"cannot start {program} as '{user.name}': {reason}")


def session_of(stat: str) -> tuple[int, int] | None:
    """(process group, session) of a live process from its /proc/<pid>/stat text; None for a zombie.

    The command name, in parentheses, may hold anything, so fields are counted after the last ')'.
    """
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 4 or fields[0] in ("Z", "X") or not (fields[2].isdigit() and fields[3].isdigit()):
        return None
    return int(fields[2]), int(fields[3])


def session_groups(sid: int, proc: Path = PROC) -> set[int]:
    """The process groups with a live member in session ``sid``."""
    groups: set[int] = set()
    for stat in _stats(proc):
        found = session_of(stat)
        if found is not None and found[1] == sid:
            groups.add(found[0])
    return groups


def _stats(proc: Path) -> Iterator[str]:
    """The stat text of every process that still exists while /proc is read."""
    try:
        entries = [entry for entry in proc.iterdir() if entry.name.isdigit()]
    except OSError:
        return
    for entry in entries:
        try:
            yield (entry / "stat").read_text(errors="replace")
        except OSError:
            continue


def signal_session(sid: int, signum: int) -> int:
    """Send ``signum`` (then SIGCONT, so stopped members act on it) to every group; how many were hit."""
    hit = 0
    for group in session_groups(sid):
        try:
            os.killpg(group, signum)
            os.killpg(group, signal.SIGCONT)
        except ProcessLookupError:
            continue
        hit += 1
    return hit


async def _session_drained(sid: int, timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) until no live process is left in the session."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(timeout, 0.0)):
            while session_groups(sid):
                await asyncio.sleep(DRAIN_POLL)


async def finish_session(sid: int, leader_exit: Callable[[], Awaitable[object]], grace: float) -> None:
    """After the session was asked to stop: wait up to ``grace`` seconds, then kill what is left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(deadline):
            await leader_exit()
    await _session_drained(sid, deadline - loop.time())
    signal_session(sid, signal.SIGKILL)
    await leader_exit()
    await _session_drained(sid, KILL_SETTLE)
