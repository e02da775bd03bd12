"""Commands run as the user with pipes, for real: separate streams, 8-bit clean data, exit codes, stdin EOF."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from rampart.agent.sessions.execute import MAX_COMMAND_BYTES, ExecProcess, validate_command
from rampart.agent.sessions.processes import session_groups
from rampart.agent.sessions.runas import LoginUser
from rampart.agent.sessions.status import ExitStatus
from rampart.errors import SessionProcessError, SessionRefused
from unit.agent.sessions.session_helpers import Accounts, async_test, read_all

pytestmark = pytest.mark.timeout(120)


@asynccontextmanager
async def _run(user: LoginUser, command: str) -> AsyncIterator[ExecProcess]:
    """A running command, torn down whatever the test did."""
    process = await ExecProcess.start(user, command)
    try:
        yield process
    finally:
        await process.close_stdin()
        await process.terminate(grace=1.0)
        await read_all(process.read_stdout)
        await read_all(process.read_stderr)


async def _outputs(process: ExecProcess) -> tuple[bytes, bytes, ExitStatus]:
    out, err = await asyncio.gather(read_all(process.read_stdout), read_all(process.read_stderr))
    return out, err, await process.wait()


@async_test
async def test_stdout_and_stderr_stay_separate(accounts: Accounts) -> None:
    async with _run(accounts.alice, "printf out; printf err >&2; exit 3") as process:
        out, err, status = await _outputs(process)
    assert (out, err) == (b"out", b"err")
    assert status == ExitStatus(code=3, signal=None)


@async_test
async def test_runs_as_the_user_with_the_login_environment(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPART_TEST_MARKER", "leak")
    command = 'echo "$(id -u) $(id -g) $(pwd) ${RAMPART_TEST_MARKER:-absent} $USER $(umask)"'
    async with _run(accounts.bob, command) as process:
        out, _, status = await _outputs(process)
    bob = accounts.bob
    assert out.decode().split() == [str(bob.uid), str(bob.gid), bob.home, "absent", bob.name, "0022"]
    assert status.code == 0


@async_test
async def test_every_byte_value_round_trips(accounts: Accounts) -> None:
    data = bytes(range(256)) * 2048
    async with _run(accounts.alice, "cat") as process:

        async def feed() -> None:
            for start in range(0, len(data), 10_000):
                await process.write_stdin(data[start : start + 10_000])
            await process.close_stdin()

        _, (out, err, status) = await asyncio.gather(feed(), _outputs(process))
    assert out == data
    assert (err, status.code) == (b"", 0)


@async_test
async def test_stdin_end_of_file_reaches_the_command(accounts: Accounts) -> None:
    async with _run(accounts.alice, "wc -c") as process:
        await process.write_stdin(b"12345")
        await process.close_stdin()
        out, _, status = await _outputs(process)
    assert (out.strip(), status.code) == (b"5", 0)


@async_test
async def test_writing_to_a_command_that_stopped_reading_is_not_an_error(accounts: Accounts) -> None:
    async with _run(accounts.alice, "exec 0<&-; echo closed") as process:
        out, _, status = await _outputs(process)
        for _ in range(3):
            await process.write_stdin(b"x" * 100_000)
        await process.close_stdin()
    assert (out, status.code) == (b"closed\n", 0)


@async_test
async def test_terminate_ends_the_command_and_its_children(accounts: Accounts) -> None:
    async with _run(accounts.alice, "sleep 1000 & sleep 1000; echo never") as process:
        status = await process.terminate(grace=5.0)
        assert status == ExitStatus(code=None, signal=signal.SIGTERM)
        assert status.exit_code_for_client() == 128 + signal.SIGTERM
        assert session_groups(process.pid) == set()


@async_test
async def test_terminate_kills_what_ignores_sigterm(accounts: Accounts) -> None:
    async with _run(accounts.alice, "trap '' TERM HUP; echo ready; while :; do sleep 1; done") as process:
        assert await process.read_stdout() == b"ready\n"
        status = await process.terminate(grace=0.2)
    assert status == ExitStatus(code=None, signal=signal.SIGKILL)


@async_test
async def test_nologin_account_cannot_run_commands(accounts: Accounts) -> None:
    async with _run(accounts.nologin, "id") as process:
        out, _, status = await _outputs(process)
    assert b"uid=" not in out
    assert status.code != 0


@async_test
async def test_missing_program_is_a_one_line_error(accounts: Accounts) -> None:
    with pytest.raises(
        SessionProcessError, match=r"^cannot start /nonexistent/prog as 'rpt\w+': No such file"
    ):
        await ExecProcess.start_argv(accounts.alice, ["/nonexistent/prog"])


@pytest.mark.parametrize("command", ["", "a\x00b", "x" * (MAX_COMMAND_BYTES + 1), None])
def test_bad_commands_are_refused(command: str) -> None:
    with pytest.raises(SessionRefused):
        validate_command(command)


def test_longest_command_is_accepted() -> None:
    assert validate_command("x" * MAX_COMMAND_BYTES)
