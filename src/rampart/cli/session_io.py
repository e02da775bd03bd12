"""The async pumps behind ``rampart session``: local stdio, a terminal, TCP sockets or a file on one side,
a session Conversation on the other, and how the control events end a session with an exit code.

Every runner takes the attach coroutine from its caller, so it runs against any server (or a test
double); `converse` reads what arrives, in order, until a handler returns an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import select
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from rampart.client.sessions import PER_CONNECTION, AttachRefused, client_conversation
from rampart.errors import RampartError, SessionError
from rampart.report.escape import safe_text
from rampart.session import records
from rampart.session.records import Stream
from rampart.session.streams import Conversation

CHUNK = 64 * 1024
MAX_ERROR_TEXT = 4096
Handler = Callable[[Stream, bytes], Awaitable[int | None]]
Attaching = Coroutine[Any, Any, None]
ConnectionAttacher = Callable[[int, Conversation], Attaching]
Progress = Callable[[int], None]


class CopyFailed(SessionError):
    """A file copy did not complete, or what arrived does not match the host's checksum."""

    exit_code = 1


@dataclass
class Stdio:
    """Where a session's bytes come from and go; ``eol`` ends remarks (CRLF on a raw terminal)."""

    stdin: BinaryIO
    stdout: BinaryIO
    stderr: BinaryIO
    eol: str = "\n"

    @classmethod
    def system(cls) -> Stdio:
        return cls(sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer)

    def remark(self, text: str) -> None:
        write(self.stderr, (safe_text(text) + self.eol).encode("utf-8", "replace"))


def write(sink: BinaryIO, data: bytes) -> None:
    sink.write(data)
    sink.flush()


# --- the conversation loop -------------------------------------------------------------------


async def converse(
    conversation: Conversation, attaching: Attaching, handle: Handler, pumps: Iterable[Attaching] = ()
) -> int:
    """Run the attach and the pumps; give every received piece to ``handle`` until it returns a code."""
    attach_task = asyncio.create_task(attaching)
    pump_tasks = [asyncio.create_task(pump) for pump in pumps]
    try:
        return await _consume(conversation, attach_task, set(pump_tasks), handle)
    finally:
        await conversation.close()
        for task in (attach_task, *pump_tasks):
            task.cancel()
        await asyncio.gather(attach_task, *pump_tasks, return_exceptions=True)


async def _consume(
    conversation: Conversation,
    attach_task: asyncio.Task[None],
    pumps: set[asyncio.Task[None]],
    handle: Handler,
) -> int:
    while True:
        getter = asyncio.create_task(conversation.receive())
        done, _ = await asyncio.wait({getter, attach_task, *pumps}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            code = await handle(*getter.result())
            if code is not None:
                return code
            continue
        getter.cancel()
        if attach_task in done:
            return await _after_attach(conversation, attach_task, handle)
        for task in done:
            pumps.discard(task)
            task.result()  # a pump that failed ends the session with its error


async def _after_attach(conversation: Conversation, attach_task: asyncio.Task[None], handle: Handler) -> int:
    """The attach ended (a final close): what already arrived still counts, then its error."""
    for _ in range(8):  # a few turns for a reader still delivering
        while (item := conversation.receive_nowait()) is not None:
            code = await handle(*item)
            if code is not None:
                return code
        await asyncio.sleep(0)
    attach_task.result()
    raise SessionError("the connection to the server ended")


def outcome(event: dict[str, Any]) -> tuple[int, str] | None:
    """The exit code and remark a control event ends the session with, or None if it does not."""
    kind = event["type"]
    if kind == "exit":
        return exit_status(event), ""
    if kind == "end":
        return 255, f"[session ended: {event.get('reason') or 'no reason given'}]"
    if kind == "error":
        return 255, f"rampart: remote error: {event.get('message') or 'unknown'}"
    return None


def exit_status(event: dict[str, Any]) -> int:
    """The remote exit code, 128 + signal for a killed process, 255 when unknown."""
    code, number = event.get("code"), event.get("signal")
    if type(code) is int:
        return code if 0 <= code <= 255 else 255
    if type(number) is int and 0 < number < 128:
        return 128 + number
    return 255


# --- stdio: shell, exec, join ----------------------------------------------------------------


async def run_stdio(
    conversation: Conversation,
    attaching: Attaching,
    io: Stdio,
    *,
    read_stdin: bool = True,
    resize: int | None = None,
) -> int:
    """STDOUT and STDERR to ours, our stdin (unless ``read_stdin`` is off) to STDIN; the remote's exit code.

    ``resize`` is the terminal's fd: its size changes (SIGWINCH) become resize events.
    """
    pumps = [pump_input(io.stdin, conversation)] if read_stdin else []
    with resizing(conversation, resize) if resize is not None else contextlib.nullcontext():
        return await converse(conversation, attaching, _stdio_handler(io), pumps)


def _stdio_handler(io: Stdio) -> Handler:
    """Output to ours; the session ends at the server's ``end`` event, which always follows the exit
    status, with the remote exit code, saying why when the server (not the process) ended it."""
    exited: list[int] = []

    async def handle(stream: Stream, data: bytes) -> int | None:
        if stream is Stream.STDOUT:
            write(io.stdout, data)
            return None
        if stream is Stream.STDERR:
            write(io.stderr, data)
            return None
        event = records.parse_event(data)
        ending = outcome(event)
        if event["type"] == "exit" and ending is not None:
            exited.append(ending[0])
            return None
        if ending is not None and ending[1] and not (exited and _ended_by_exit(event)):
            io.remark(ending[1])
        return None if ending is None else (exited or [ending[0]])[0]

    return handle


def _ended_by_exit(event: dict[str, Any]) -> bool:
    reason = str(event.get("reason", ""))
    return reason.startswith(("exited with code", "killed by signal"))


async def pump_input(source: BinaryIO, conversation: Conversation) -> None:
    """Our input, as it becomes available, onto STDIN; its end as an ``eof`` event."""
    async for chunk in read_chunks(source):
        await conversation.send(Stream.STDIN, chunk)
    await conversation.send_event(Stream.CTL_IN, {"type": "eof"})


async def read_chunks(source: BinaryIO, size: int = CHUNK) -> AsyncIterator[bytes]:
    """What ``source`` has, up to ``size`` bytes at a time: polled when it can be, else read in a thread."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    fd = _fd(source)
    try:
        if fd is None:
            raise PermissionError("not pollable")
        loop.add_reader(fd, ready.set)
    except (PermissionError, ValueError, OSError):
        while chunk := await asyncio.to_thread(_read_some, source, size):
            yield chunk
        return
    try:
        while chunk := await _next_ready(fd, ready, size):
            yield chunk
    finally:
        loop.remove_reader(fd)


async def _next_ready(fd: int, ready: asyncio.Event, size: int) -> bytes:
    """The next read of a blocking fd, made only once select() says it will not block (the reader
    callback can fire again after the data it announced was already read)."""
    while True:
        await ready.wait()
        ready.clear()
        if not select.select([fd], [], [], 0)[0]:
            continue
        with contextlib.suppress(BlockingIOError, InterruptedError):
            return os.read(fd, size)


def _fd(source: BinaryIO) -> int | None:
    try:
        return source.fileno()
    except (OSError, ValueError, AttributeError):
        return None


def _read_some(source: BinaryIO, size: int) -> bytes:
    read1 = getattr(source, "read1", None)
    return bytes(read1(size) if read1 is not None else source.read(size))


@contextlib.contextmanager
def resizing(conversation: Conversation, fd: int) -> Iterator[None]:
    """While inside, every SIGWINCH sends the terminal's new size as a resize event."""
    loop = asyncio.get_running_loop()
    sending: set[asyncio.Task[None]] = set()

    def changed() -> None:
        size = os.get_terminal_size(fd)
        event = {"type": "resize", "cols": size.columns, "rows": size.lines}
        task = loop.create_task(conversation.send_event(Stream.CTL_IN, event))
        sending.add(task)
        task.add_done_callback(_forget(sending))

    loop.add_signal_handler(signal.SIGWINCH, changed)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGWINCH)


def _forget(tasks: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a resize lost when the session ends is of no interest

    return done


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """The terminal in raw mode while inside; its settings restored on every way out."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # keep what was typed ahead
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# --- forward ---------------------------------------------------------------------------------


class Forwarder:
    """Listens locally; every accepted connection gets its own attach (connection 1, 2, ...)."""

    def __init__(self, attacher: ConnectionAttacher, io: Stdio) -> None:
        self._attacher, self._io = attacher, io
        self._numbers = itertools.count(1)
        self._handlers: set[asyncio.Task[Any]] = set()
        self._fatal: asyncio.Future[None] | None = None

    async def serve(self, bind: str, port: int, ready: Callable[[int], None]) -> None:
        """Forward until cancelled (Ctrl-C) or the server refuses a connection for good."""
        self._fatal = asyncio.get_running_loop().create_future()
        server = await asyncio.start_server(self._accepted, bind, port)
        try:
            ready(int(server.sockets[0].getsockname()[1]))
            await self._fatal
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._carry(next(self._numbers), reader, writer)
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _carry(self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conversation = client_conversation()
        attaching = self._attacher(number, conversation)
        try:
            await converse(
                conversation, attaching, self._socket_handler(writer), [pump_socket(reader, conversation)]
            )
        except AttachRefused as error:
            if error.code == PER_CONNECTION:
                self._io.remark(f"rampart: connection {number}: {error.message}")
            elif self._fatal is not None and not self._fatal.done():
                self._fatal.set_exception(error)
        except (RampartError, OSError) as error:
            self._io.remark(f"rampart: connection {number}: {getattr(error, 'message', None) or error}")

    def _socket_handler(self, writer: asyncio.StreamWriter) -> Handler:
        async def handle(stream: Stream, data: bytes) -> int | None:
            if stream is Stream.STDOUT:
                writer.write(data)
                await writer.drain()
                return None
            if stream is Stream.STDERR:
                self._io.remark("rampart: " + data.decode("utf-8", "replace").strip())
                return None
            return self._socket_event(records.parse_event(data))

        return handle

    def _socket_event(self, event: dict[str, Any]) -> int | None:
        if event["type"] in ("closed", "end"):
            return 0
        if event["type"] == "error":
            self._io.remark(f"rampart: forward: {event.get('message') or 'error'}")
            return 1
        return None


async def pump_socket(reader: asyncio.StreamReader, conversation: Conversation) -> None:
    while chunk := await reader.read(CHUNK):
        await conversation.send(Stream.STDIN, chunk)
    await conversation.send_event(Stream.CTL_IN, {"type": "eof"})


# --- copy ------------------------------------------------------------------------------------


@dataclass
class CopyState:
    """What a copy saw: the bytes that arrived (download), the host's report, error text, the end."""

    sink: BinaryIO | None = None
    progress: Progress | None = None
    digest: Any = field(default_factory=hashlib.sha256)
    received: int = 0
    copied: dict[str, Any] | None = None
    errors: bytearray = field(default_factory=bytearray)
    ending: str = ""

    async def handle(self, stream: Stream, data: bytes) -> int | None:
        if stream is Stream.STDOUT:
            self._arrived(data)
        elif stream is Stream.STDERR:
            self.errors += data[: MAX_ERROR_TEXT - len(self.errors)]
        else:
            return self._event(records.parse_event(data))
        return None

    def _arrived(self, data: bytes) -> None:
        if self.sink is None:
            raise CopyFailed("the host sent file data during an upload")
        self.sink.write(data)
        self.digest.update(data)
        self.received += len(data)
        if self.progress is not None:
            self.progress(len(data))

    def _event(self, event: dict[str, Any]) -> int | None:
        if event["type"] == "copied":
            self.copied = event
            return None
        ending = outcome(event)
        if ending is not None:
            self.ending = ending[1]
        return None if ending is None else ending[0]

    def failure(self, code: int) -> str:
        """One line saying why a copy that ended with ``code`` failed."""
        text = self.errors.decode("utf-8", "replace").strip().splitlines()
        return self.ending or (text[0] if text else "") or f"the remote copy exited with code {code}"

    def check(self, size: int, sha256: str) -> None:
        """The host's ``copied`` report must name exactly ``size`` bytes with digest ``sha256``."""
        if self.copied is None:
            raise CopyFailed("the host did not confirm the copy")
        theirs = (self.copied.get("bytes"), str(self.copied.get("sha256", "")).lower())
        if theirs != (size, sha256):
            raise CopyFailed(
                f"checksum mismatch: the host reports {safe_text(str(theirs[0]))} bytes sha256 "
                f"{safe_text(theirs[1][:64])}, this side has {size} bytes sha256 {sha256}"
            )


async def run_upload(
    conversation: Conversation, attaching: Attaching, source: BinaryIO, progress: Progress | None = None
) -> tuple[int, str]:
    """Send ``source`` on STDIN, then ``eof``; returns (bytes, sha256) once the host confirmed both."""
    state, digest, sent = CopyState(), hashlib.sha256(), [0, 0]

    async def pump() -> None:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            await conversation.send(Stream.STDIN, chunk)
            sent[0] += len(chunk)
            if progress is not None:
                progress(len(chunk))
        await conversation.send_event(Stream.CTL_IN, {"type": "eof"})
        sent[1] = 1

    code = await converse(conversation, attaching, state.handle, [pump()])
    if code != 0:
        raise CopyFailed(state.failure(code))
    if not sent[1]:
        raise CopyFailed("the host ended the copy before the whole file was sent")
    state.check(sent[0], digest.hexdigest())
    return sent[0], digest.hexdigest()


async def run_download(
    conversation: Conversation, attaching: Attaching, sink: BinaryIO, progress: Progress | None = None
) -> tuple[int, str]:
    """Write STDOUT to ``sink``; returns (bytes, sha256) once the host's report matches what arrived."""
    state = CopyState(sink=sink, progress=progress)
    code = await converse(conversation, attaching, state.handle)
    if code != 0:
        raise CopyFailed(state.failure(code))
    sha256 = state.digest.hexdigest()
    state.check(state.received, sha256)
    return state.received, sha256
