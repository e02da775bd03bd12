"""The agent's side of access sessions: run what the server asks, keep it across link drops.

The server opens a "session" channel whose metadata says what to run (a login shell, a command, a
file copy or one forwarded connection) and as which OS user. A session outlives the channel: when the
link drops, its process keeps running and its output waits in the conversation's replay buffer; the
server reopens the channel with ``resume`` on the next link and the streams carry on exactly. A
session not resumed within its grace period is stopped. Nothing is recorded here: the server records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rampart.agent.sessions import copying, forwarding, runas
from rampart.agent.sessions.execute import ExecProcess
from rampart.agent.sessions.shell import ShellProcess
from rampart.errors import RampartError, SessionError, SessionProtocolError
from rampart.link.channel import Channel
from rampart.session import records
from rampart.session.records import FROM_AGENT, TOWARD_AGENT, Stream
from rampart.session.streams import ChannelPipe, Conversation

log = logging.getLogger("rampart.agent")
DEFAULT_GRACE = 120.0
MAX_GRACE = 24 * 3600.0
READ_SIZE = 64 * 1024


class SessionHost:
    """Every session running on this host, by id; one per agent process, across links."""

    def __init__(self) -> None:
        self.running: dict[str, HostedSession] = {}

    async def accept(self, channel: Channel) -> None:
        """Start or resume the session a "session" channel asks for; refuse with a reason otherwise."""
        meta = channel.meta
        session_id = meta.get("id")
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 200:
            await channel.close("a session channel needs an id")
            return
        try:
            if meta.get("resume") is True:
                await self._resume(session_id, channel)
            else:
                await self._start(session_id, channel)
        except (RampartError, TimeoutError) as error:
            await channel.close(getattr(error, "message", "timed out")[:500])

    async def _resume(self, session_id: str, channel: Channel) -> None:
        hosted = self.running.get(session_id)
        if hosted is None:
            raise SessionError("unknown session (it ended or this agent restarted)")
        await hosted.conversation.attach(ChannelPipe(channel))

    async def _start(self, session_id: str, channel: Channel) -> None:
        if session_id in self.running:
            raise SessionError("a session with this id is already running")
        hosted = await HostedSession.start(session_id, channel.meta)
        self.running[session_id] = hosted
        try:
            await hosted.conversation.attach(ChannelPipe(channel))
        except BaseException:
            await hosted.stop("the server did not attach")
            raise
        finally:
            hosted.begin(lambda: self.running.pop(session_id, None))

    async def stop_all(self, reason: str) -> None:
        """Stop every session (the agent is shutting down)."""
        await asyncio.gather(*(hosted.stop(reason) for hosted in list(self.running.values())))


class HostedSession:
    """One session's process or connection and the conversation that carries its streams."""

    def __init__(self, session_id: str, worker: Worker, grace: float) -> None:
        self.id, self.worker, self.grace = session_id, worker, grace
        self.conversation = Conversation(FROM_AGENT, TOWARD_AGENT)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, session_id: str, meta: dict[str, Any]) -> HostedSession:
        """Check the request and start its process (SessionRefused / SessionError say why not)."""
        user = runas.resolve_login(str(meta.get("login", "")), allow_root=meta.get("allow_root") is True)
        maker = WORKERS.get(str(meta.get("kind")))
        if maker is None:
            raise SessionError(f"unknown session kind {str(meta.get('kind'))[:40]!r}")
        worker = await maker(user, meta)
        return cls(session_id, worker, _grace(meta.get("grace")))

    def begin(self, forget: Callable[[], object]) -> None:
        """Run the session to its end in the background, then forget it."""

        async def run() -> None:
            try:
                await self._run()
            finally:
                forget()

        self._task = asyncio.create_task(run())

    async def _run(self) -> None:
        conversation = self.conversation
        await conversation.send_event(Stream.CTL_OUT, {"type": "started", **self.worker.describe()})
        pumps = asyncio.gather(self.worker.pump_out(conversation), self._pump_in())
        watchdog = asyncio.create_task(self._watch_link())
        try:
            await self.worker.run(conversation)
        except RampartError as error:
            await conversation.send_event(Stream.CTL_OUT, {"type": "error", "message": error.message[:500]})
        finally:
            watchdog.cancel()
            pumps.cancel()
            with contextlib.suppress(asyncio.CancelledError, RampartError):
                await pumps
        await self._finish()

    async def _pump_in(self) -> None:
        while True:
            stream, data = await self.conversation.receive()
            if stream is Stream.STDIN:
                await self.worker.write(data)
                continue
            event = records.parse_event(data)
            if event["type"] == "terminate":
                await self.worker.stop()
            else:
                await self.worker.control(event)

    async def _watch_link(self) -> None:
        """Stop the process when the server does not come back within the grace period."""
        while True:
            await self.conversation.detached.wait()
            try:
                await asyncio.wait_for(self.conversation.attached.wait(), self.grace)
            except TimeoutError:
                log.warning("session %s: not resumed within %.0f s; stopping it", self.id, self.grace)
                await self.worker.stop()
                return

    async def _finish(self) -> None:
        """Wait (within the grace period) until the server has everything, then close."""
        conversation = self.conversation
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_all_acknowledged(conversation), self.grace)
        await conversation.close("session finished")

    async def stop(self, reason: str) -> None:
        await self.worker.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, RampartError):
                await asyncio.wait_for(self._task, 5.0)
        await self.conversation.close(reason)


async def _all_acknowledged(conversation: Conversation) -> None:
    while any(conversation.unacked(stream) for stream in FROM_AGENT):
        await asyncio.sleep(0.05)


def _grace(value: object) -> float:
    if isinstance(value, int | float) and 0 < value <= MAX_GRACE:
        return float(value)
    return DEFAULT_GRACE


# -- workers: what runs for each kind ---------------------------------------------------------


class Worker:
    """The host side of one session kind: produce its output, take its input, end with an event."""

    def describe(self) -> dict[str, Any]:
        return {}

    async def pump_out(self, conversation: Conversation) -> None:
        """Send output until it ends (the default: none)."""

    async def run(self, conversation: Conversation) -> None:
        """Wait for the end and send the final event."""
        raise NotImplementedError

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def control(self, event: dict[str, Any]) -> None:
        """Handle a control event (resize, eof); unknown events are a protocol error."""
        raise SessionProtocolError(f"unexpected event {event['type']!r}")

    async def stop(self) -> None:
        raise NotImplementedError


class ShellWorker(Worker):
    """A login shell on a pseudo-terminal; reports whether typed input is visible (the ``echo`` event)
    so the server never records a typed password."""

    def __init__(self, process: ShellProcess, login: str) -> None:
        self.process, self.login = process, login
        self._echo = process.input_visible()
        self._output_done = asyncio.Event()

    def describe(self) -> dict[str, Any]:
        return {"pid": self.process.pid, "login": self.login}

    async def pump_out(self, conversation: Conversation) -> None:
        try:
            await self._echo_changed(conversation)
            while chunk := await self.process.read():
                await self._echo_changed(conversation)
                await conversation.send(Stream.STDOUT, chunk)
        finally:
            self._output_done.set()

    async def _echo_changed(self, conversation: Conversation) -> None:
        echo = self.process.input_visible()
        if echo != self._echo:
            self._echo = echo
            await conversation.send_event(Stream.CTL_OUT, {"type": "echo", "on": echo})

    async def run(self, conversation: Conversation) -> None:
        status = await self.process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._output_done.wait(), 2.0)
        await conversation.send_event(Stream.CTL_OUT, status.as_event())

    async def write(self, data: bytes) -> None:
        await self.process.write(data)

    async def control(self, event: dict[str, Any]) -> None:
        if event["type"] == "resize":
            self.process.resize(int(event["cols"]), int(event["rows"]))
        elif event["type"] != "eof":
            await super().control(event)

    async def stop(self) -> None:
        await self.process.terminate()


class ExecWorker(Worker):
    """A command with separate stdin, stdout and stderr, 8-bit clean; ends with its exit status.

    A copy is a command too: its counter hashes what goes out (download) or comes in (upload), and
    a successful copy reports the byte count and SHA-256 before the exit status."""

    def __init__(
        self,
        process: ExecProcess,
        *,
        counter: copying.Sha256Counter | None = None,
        counts_input: bool = False,
    ) -> None:
        self.process, self.counter, self.counts_input = process, counter, counts_input
        self._out_done = asyncio.Event()

    def describe(self) -> dict[str, Any]:
        return {"pid": self.process.pid}

    async def pump_out(self, conversation: Conversation) -> None:
        counter = None if self.counts_input else self.counter
        try:
            await asyncio.gather(
                _copy_stream(self.process.read_stdout, Stream.STDOUT, conversation, counter),
                _copy_stream(self.process.read_stderr, Stream.STDERR, conversation, None),
            )
        finally:
            self._out_done.set()

    async def run(self, conversation: Conversation) -> None:
        status = await self.process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._out_done.wait(), 5.0)
        if self.counter is not None and status.code == 0:
            await conversation.send_event(Stream.CTL_OUT, self.counter.as_event())
        await conversation.send_event(Stream.CTL_OUT, status.as_event())

    async def write(self, data: bytes) -> None:
        if self.counter is not None and self.counts_input:
            self.counter.update(data)
        await self.process.write_stdin(data)

    async def control(self, event: dict[str, Any]) -> None:
        if event["type"] == "eof":
            await self.process.close_stdin()
        elif event["type"] != "resize":
            await super().control(event)

    async def stop(self) -> None:
        await self.process.terminate()


async def _copy_stream(
    read: Callable[[], Awaitable[bytes]],
    stream: Stream,
    conversation: Conversation,
    counter: copying.Sha256Counter | None,
) -> None:
    while chunk := await read():
        if counter is not None:
            counter.update(chunk)
        await conversation.send(stream, chunk)


class ForwardWorker(Worker):
    """One TCP connection from the host to the forward's target."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, label: str) -> None:
        self.reader, self.writer, self.label = reader, writer, label
        self.bytes_in = self.bytes_out = 0
        self._closed = asyncio.Event()

    def describe(self) -> dict[str, Any]:
        return {"target": self.label}

    async def pump_out(self, conversation: Conversation) -> None:
        try:
            while chunk := await self.reader.read(READ_SIZE):
                self.bytes_out += len(chunk)
                await conversation.send(Stream.STDOUT, chunk)
        except OSError as error:
            log.info("forward to %s: %s", self.label, error)
        finally:
            self._closed.set()

    async def run(self, conversation: Conversation) -> None:
        await self._closed.wait()
        event = {"type": "closed", "bytes_in": self.bytes_in, "bytes_out": self.bytes_out}
        await conversation.send_event(Stream.CTL_OUT, event)

    async def write(self, data: bytes) -> None:
        self.bytes_in += len(data)
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError:
            await self.stop()

    async def control(self, event: dict[str, Any]) -> None:
        if event["type"] == "eof":
            with contextlib.suppress(OSError):
                if self.writer.can_write_eof():
                    self.writer.write_eof()
        else:
            await super().control(event)

    async def stop(self) -> None:
        self.writer.close()
        self._closed.set()


async def _shell(user: runas.LoginUser, meta: dict[str, Any]) -> Worker:
    runas.require_login_shell(user)
    cols, rows = int(meta.get("cols", 80)), int(meta.get("rows", 24))
    process = await ShellProcess.start(user, cols=cols, rows=rows, term=str(meta.get("term", "xterm")))
    return ShellWorker(process, user.name)


async def _exec(user: runas.LoginUser, meta: dict[str, Any]) -> Worker:
    return ExecWorker(await ExecProcess.start(user, str(meta.get("command", ""))))


async def _copy(user: runas.LoginUser, meta: dict[str, Any]) -> Worker:
    path = str(meta.get("path", ""))
    if meta.get("direction") == "upload":
        process = await copying.start_upload(user, path)
        return ExecWorker(process, counter=copying.Sha256Counter(), counts_input=True)
    if meta.get("direction") == "download":
        return ExecWorker(await copying.start_download(user, path), counter=copying.Sha256Counter())
    raise SessionError("a copy needs direction upload or download")


async def _forward(user: runas.LoginUser, meta: dict[str, Any]) -> Worker:
    host, port = str(meta.get("target_host", "")), meta.get("target_port")
    if type(port) is not int:
        raise SessionError("a forward needs an integer target port")
    reader, writer = await forwarding.open_target(host, port)
    return ForwardWorker(reader, writer, forwarding.target_label(host, port))


# The session kinds this agent runs, and how each starts.
WORKERS: dict[str, Callable[[runas.LoginUser, dict[str, Any]], Awaitable[Worker]]] = {
    "shell": _shell,
    "exec": _exec,
    "copy": _copy,
    "forward": _forward,
}
