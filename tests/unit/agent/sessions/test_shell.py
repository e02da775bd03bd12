"""Login shells on a pty, for real: the user, the window size, resize, echo, exit status, teardown."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from rampart.agent.sessions.processes import session_groups, session_of
from rampart.agent.sessions.shell import ShellProcess, validate_size
from rampart.agent.sessions.status import ExitStatus
from rampart.errors import SessionRefused
from unit.agent.sessions.session_helpers import Accounts, Output, async_test, read_all, read_until

pytestmark = pytest.mark.timeout(120)


@asynccontextmanager
async def _shell(accounts: Accounts, cols: int = 80, rows: int = 24) -> AsyncIterator[ShellProcess]:
    """A shell for alice, torn down whatever the test did."""
    shell = await ShellProcess.start(accounts.alice, cols=cols, rows=rows, term="xterm-256color")
    try:
        yield shell
    finally:
        await shell.terminate(grace=1.0)
        shell.close()


async def _finish(shell: ShellProcess) -> ExitStatus:
    """End the shell with ``exit`` and read its output to the end."""
    await shell.write(b"exit 0\n")
    await read_all(shell.read)
    return await shell.wait()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return session_of(stat) is not None


@async_test
async def test_first_command_sees_the_size_given_at_start(accounts: Accounts) -> None:
    async with _shell(accounts, cols=123, rows=45) as shell:
        await shell.write(b"stty size\n")
        found = await read_until(shell.read, rb"(\d+) (\d+)\r?\n")
        assert found.groups() == (b"45", b"123")
        await _finish(shell)


@async_test
async def test_runs_as_the_user_in_a_login_shell(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b'echo "U$(id -u):$(id -g)U Z${0}Z D$(pwd)D T${TERM}T"\n')
        found = await read_until(shell.read, rb"U(\d+):(\d+)U Z(\S+)Z D(\S+)D T(\S+)T")
        alice = accounts.alice
        assert found.groups() == (
            str(alice.uid).encode(),
            str(alice.gid).encode(),
            b"-bash",
            alice.home.encode(),
            b"xterm-256color",
        )
        assert await _finish(shell) == ExitStatus(code=0, signal=None)


@async_test
async def test_the_pty_is_the_controlling_terminal_and_belongs_to_the_user(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b'echo "O$(stat -c %u "$(tty)")O"; echo ok >/dev/tty && echo "C$((6*7))C"\n')
        output = Output(shell.read)
        found = await output.until(rb"O(\d+)O")
        assert found.group(1) == str(accounts.alice.uid).encode()
        await output.until(rb"C42C")
        await _finish(shell)


@async_test
async def test_agent_environment_does_not_reach_the_shell(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPART_TEST_MARKER", "leak")
    async with _shell(accounts) as shell:
        await shell.write(b'echo "<${RAMPART_TEST_MARKER:-absent}>"\n')
        found = await read_until(shell.read, rb"<(\w+)>")
        assert found.group(1) == b"absent"
        await _finish(shell)


@async_test
async def test_resize_is_seen_by_the_next_command(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        shell.resize(100, 30)
        await shell.write(b"stty size\n")
        found = await read_until(shell.read, rb"(\d+) (\d+)\r?\n")
        assert found.groups() == (b"30", b"100")
        await _finish(shell)


@async_test
async def test_echo_state_follows_the_terminal(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        # While `cat` runs, the terminal has the modes the shell leaves for commands.
        output = Output(shell.read)
        await shell.write(b"echo R$((3+4)); cat\n")
        await output.until(rb"R7")
        assert shell.echo_on() is True
        await shell.write(b"\x04stty -echo; echo R$((2+3)); cat\n")
        await output.until(rb"R5")
        assert shell.echo_on() is False
        await shell.write(b"\x04stty echo\n")
        await _finish(shell)


@async_test
async def test_exit_code_of_the_shell(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b"exit 7\n")
        await read_all(shell.read)
        assert await shell.read() == b""
        status = await shell.wait()
        assert status == ExitStatus(code=7, signal=None)
        assert status.exit_code_for_client() == 7


@async_test
async def test_shell_killed_by_a_signal(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b"echo S$((1+1))S\n")
        await read_until(shell.read, rb"S2S")
        os.kill(shell.pid, signal.SIGKILL)
        status = await shell.wait()
        assert status == ExitStatus(code=None, signal=signal.SIGKILL)
        assert status.exit_code_for_client() == 137


@async_test
async def test_terminate_hangs_up_the_shell_and_its_jobs(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b"sleep 1000 & echo J$!J\n")
        job = int((await read_until(shell.read, rb"J(\d+)J")).group(1))
        status = await shell.terminate(grace=5.0)
        assert status.signal in (signal.SIGHUP, signal.SIGKILL)
        await read_all(shell.read)
        assert not _alive(job)
        assert session_groups(shell.pid) == set()


@async_test
async def test_terminate_kills_what_ignores_the_hangup(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await shell.write(b"exec sh -c 'trap \"\" HUP TERM; echo I$((8+1))I; while :; do sleep 1; done'\n")
        await read_until(shell.read, rb"I9I")
        status = await shell.terminate(grace=0.2)
        assert status == ExitStatus(code=None, signal=signal.SIGKILL)
        assert session_groups(shell.pid) == set()


@async_test
async def test_close_ends_a_pending_read(accounts: Accounts) -> None:
    async with _shell(accounts) as shell:
        await read_until(shell.read, rb"\$ $")
        pending = asyncio.create_task(shell.read())
        await asyncio.sleep(0)
        shell.close()
        assert await pending == b""
        assert await shell.read() == b""
        assert shell.echo_on() is False
        await shell.write(b"ignored after close")


@async_test
async def test_nologin_user_gets_no_shell(accounts: Accounts) -> None:
    with pytest.raises(SessionRefused, match="may not log in"):
        await ShellProcess.start(accounts.nologin, cols=80, rows=24, term="xterm")


@async_test
async def test_bad_term_is_refused_before_anything_starts(accounts: Accounts) -> None:
    with pytest.raises(SessionRefused, match="invalid terminal type"):
        await ShellProcess.start(accounts.alice, cols=80, rows=24, term="../../x")


@pytest.mark.parametrize(("cols", "rows"), [(0, 24), (80, 0), (-1, 24), (80, 70000), (True, 24), (80.0, 24)])
def test_bad_sizes_are_refused(cols: int, rows: int) -> None:
    with pytest.raises(SessionRefused, match="invalid terminal size"):
        validate_size(cols, rows)
