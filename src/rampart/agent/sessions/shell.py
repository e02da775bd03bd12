"""An interactive login shell on a pseudo-terminal, run as the session's user.

The window size is set before the shell starts, so its first prompt already sees it. Output is read
from the pty master without busy waiting (the loop's reader callback); ``read`` returns b"" once no
process holds the terminal any more (the master is then closed), or after `ShellProcess.close`. When the shell exits while jobs it
left behind still hold the terminal, `ShellProcess.terminate` ends them. One reader and one writer at
a time.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import grp
import os
import signal
import struct
import subprocess
import termios
from pathlib import PurePosixPath

from rampart.agent.sessions.environment import validate_term
from rampart.agent.sessions.processes import finish_session, signal_session, spawn_options, start_failure
from rampart.agent.sessions.runas import LoginUser, require_login_shell
from rampart.agent.sessions.status import ExitStatus
from rampart.errors import SessionProcessError, SessionRefused

READ_SIZE = 64 * 1024
MAX_DIMENSION = 10_000
TTY_MODE = 0o620


def validate_size(cols: int, rows: int) -> tuple[int, int]:
    """A window size the kernel accepts and a terminal could show; else SessionRefused."""
    for value in (cols, rows):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIMENSION:
            raise SessionRefused("invalid terminal size")
    return cols, rows


def _set_window_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _give_terminal(fd: int, user: LoginUser) -> None:
    """Make the pty the user's, group tty, mode 0620, as a login does."""
    try:
        tty_gid = grp.getgrnam("tty").gr_gid
    except KeyError:
        tty_gid = user.gid
    os.fchown(fd, user.uid, tty_gid)
    os.fchmod(fd, TTY_MODE)


def _take_controlling_terminal() -> None:
    """Runs in the child, after setsid: stdin (the pty) becomes its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _spawn(user: LoginUser, slave: int, term: str) -> subprocess.Popen[bytes]:
    argv0 = "-" + PurePosixPath(user.shell).name
    try:
        return subprocess.Popen(
            [argv0],
            executable=user.shell,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            preexec_fn=_take_controlling_terminal,
            **spawn_options(user, term),
        )
    except OSError as exc:
        raise start_failure(user, user.shell, exc) from None
    except subprocess.SubprocessError:
        raise SessionProcessError(
            f"cannot start {user.shell} as '{user.name}': no controlling terminal"
        ) from None


class ShellProcess:
    """A running login shell and the master side of its pty."""

    def __init__(self, process: subprocess.Popen[bytes], master: int) -> None:
        self._process = process
        self._master = master
        self._closed = False
        self._status: ExitStatus | None = None
        self._exit_lock = asyncio.Lock()
        self._waiters: set[asyncio.Future[None]] = set()

    @classmethod
    async def start(cls, user: LoginUser, *, cols: int, rows: int, term: str) -> ShellProcess:
        """Start ``user``'s login shell on a new pty of ``cols`` x ``rows``."""
        require_login_shell(user)
        validate_size(cols, rows)
        validate_term(term)
        master, slave = os.openpty()
        try:
            _set_window_size(slave, cols, rows)
            _give_terminal(slave, user)
            process = _spawn(user, slave, term)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(process, master)

    @property
    def pid(self) -> int:
        return self._process.pid

    async def read(self) -> bytes:
        """The next output (up to 64 KiB); b"" when no process holds the terminal any more.

        Reaching that end closes the pty master (as `close` does).
        """
        while not self._closed:
            try:
                return os.read(self._master, READ_SIZE)
            except BlockingIOError:
                await self._ready(writing=False)
            except OSError as exc:
                if exc.errno == errno.EIO:
                    self.close()
                    return b""
                raise SessionProcessError(f"cannot read the terminal: {exc.strerror}") from None
        return b""

    async def write(self, data: bytes) -> None:
        """Type ``data`` into the terminal, waiting while its input buffer is full."""
        view = memoryview(data)
        while view and not self._closed:
            try:
                view = view[os.write(self._master, view) :]
            except BlockingIOError:
                await self._ready(writing=True)
            except OSError as exc:
                raise SessionProcessError(f"cannot write to the terminal: {exc.strerror}") from None

    def resize(self, cols: int, rows: int) -> None:
        """New window size; the kernel tells the foreground process with SIGWINCH."""
        validate_size(cols, rows)
        if not self._closed:
            _set_window_size(self._master, cols, rows)

    def echo_on(self) -> bool:
        """Whether the terminal echoes input now (off while a password is typed)."""
        if self._closed:
            return False
        return bool(termios.tcgetattr(self._master)[3] & termios.ECHO)

    def input_visible(self) -> bool:
        """Whether typed input shows on the screen: the terminal echoes it, or a program reading raw
        keystrokes (a line editor such as bash's, an editor) draws it itself. Only a canonical-mode
        read with echo off, a password prompt, hides it."""
        if self._closed:
            return False
        flags = termios.tcgetattr(self._master)[3]
        return bool(flags & termios.ECHO) or not flags & termios.ICANON

    async def wait(self) -> ExitStatus:
        """Wait for the shell itself to end (other processes of its session may still run)."""
        async with self._exit_lock:
            if self._status is None:
                await _exited(self._process.pid)
                self._status = ExitStatus.from_returncode(self._process.wait())
        return self._status

    async def terminate(self, grace: float = 2.0) -> ExitStatus:
        """End the whole session: SIGHUP to its process groups, SIGKILL to what is left after ``grace``.

        Output still buffered stays readable; ``read`` then returns b"" (call `close` when done, which
        also ends a read that a process escaped from the session keeps open).
        """
        signal_session(self._process.pid, signal.SIGHUP)
        await finish_session(self._process.pid, self.wait, grace)
        return await self.wait()

    def close(self) -> None:
        """Close the pty master (the session's terminal hangs up); pending and later reads return b""."""
        if self._closed:
            return
        self._closed = True
        if self._waiters:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._master)
            loop.remove_writer(self._master)
        for waiter in self._waiters:
            _wake(waiter)
        os.close(self._master)

    async def _ready(self, *, writing: bool) -> None:
        """Wait until the master is readable (or writable), or the terminal is closed."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        watch, unwatch = (
            (loop.add_writer, loop.remove_writer) if writing else (loop.add_reader, loop.remove_reader)
        )
        watch(self._master, _wake, ready)
        self._waiters.add(ready)
        try:
            await ready
        finally:
            self._waiters.discard(ready)
            if not self._closed:
                unwatch(self._master)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


async def _exited(pid: int) -> None:
    """Wait until process ``pid`` (our child) has ended, without reaping it."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        await asyncio.to_thread(os.waitid, os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    loop.add_reader(pidfd, _wake, ended)
    try:
        await ended
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
