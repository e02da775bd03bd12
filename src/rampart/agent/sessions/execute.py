"""One command run as the session's user with plain pipes (ssh semantics: the login shell runs it with -c).

Bytes go through untouched in both directions; stdout and stderr stay separate. Writing to a process
that stopped reading is not an error here: its exit status tells the story.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

from rampart.agent.sessions.processes import finish_session, signal_session, spawn_options, start_failure
from rampart.agent.sessions.runas import DEFAULT_SHELL, LoginUser
from rampart.agent.sessions.status import ExitStatus
from rampart.errors import SessionProcessError, SessionRefused

READ_SIZE = 64 * 1024
# The longest command accepted (Linux limits one argument to 128 KiB).
MAX_COMMAND_BYTES = 128 * 1024 - 1


def validate_command(command: str) -> str:
    """One non-empty command line without NUL, small enough to be an argument; else SessionRefused."""
    if not isinstance(command, str) or not command or "\x00" in command:
        raise SessionRefused("invalid command")
    if len(command.encode("utf-8", errors="surrogateescape")) > MAX_COMMAND_BYTES:
        raise SessionRefused("command too long")
    return command


class ExecProcess:
    """A running command with its three pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._status: ExitStatus | None = None

    @classmethod
    async def start(cls, user: LoginUser, command: str, *, term: str | None = None) -> ExecProcess:
        """Run ``command`` with ``user``'s shell (``shell -c command``)."""
        shell = user.shell or DEFAULT_SHELL
        return await cls.start_argv(user, [shell, "-c", validate_command(command)], term=term)

    @classmethod
    async def start_argv(
        cls, user: LoginUser, argv: Sequence[str], *, term: str | None = None
    ) -> ExecProcess:
        """Run ``argv`` as ``user`` directly, no shell involved unless ``argv`` names one."""
        pipe = asyncio.subprocess.PIPE
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=pipe, stdout=pipe, stderr=pipe, limit=READ_SIZE, **spawn_options(user, term)
            )
        except OSError as exc:
            raise start_failure(user, argv[0], exc) from None
        return cls(process)

    @property
    def pid(self) -> int:
        return self._process.pid

    async def read_stdout(self) -> bytes:
        """The next chunk of standard output (up to 64 KiB); b"" at its end."""
        return await _read(self._process.stdout)

    async def read_stderr(self) -> bytes:
        """The next chunk of standard error (up to 64 KiB); b"" at its end."""
        return await _read(self._process.stderr)

    async def write_stdin(self, data: bytes) -> None:
        """Feed ``data`` to standard input, waiting while the pipe is full; dropped if nobody reads."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            return
        stdin.write(data)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.drain()

    async def close_stdin(self) -> None:
        """End standard input (the command sees end of file)."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            return
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()

    async def wait(self) -> ExitStatus:
        """Wait for the command itself to end."""
        if self._status is None:
            self._status = ExitStatus.from_returncode(await self._process.wait())
        return self._status

    async def terminate(self, grace: float = 2.0) -> ExitStatus:
        """End the command's whole session: SIGTERM, then SIGKILL to what is left after ``grace``.

        Standard input is closed right after the signal, so a child forked just after it (and thus
        not signalled) still sees end of file instead of blocking the shell's signal trap.
        """
        signal_session(self._process.pid, signal.SIGTERM)
        await self.close_stdin()
        await finish_session(self._process.pid, self.wait, grace)
        return await self.wait()


async def _read(stream: asyncio.StreamReader | None) -> bytes:
    if stream is None:
        return b""
    try:
        return await stream.read(READ_SIZE)
    except OSError as exc:
        raise SessionProcessError(f"cannot read the command's output: {exc.strerror}") from None
