"""`Leg`: one end-to-end byte conversation of a session (a shell, a command, a copy, or one forwarded
connection): its agent side, its client side, the pumps between them, and the agent-side reconnection.

Bytes from the agent are recorded, shown to observers and passed to the client; bytes from the
client are recorded (input only while the terminal echoes) and passed to the agent. When the agent's
link drops, the leg waits for the host to reconnect and resumes on a new channel within the grace
period; the replay buffers on both ends make the resumed streams exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

from rampart.errors import LinkError, SessionError, SessionProtocolError
from rampart.server.sessions.spec import PRIORITIES
from rampart.session import records
from rampart.session.records import FROM_AGENT, TOWARD_AGENT, Stream
from rampart.session.streams import ChannelPipe, Conversation

if TYPE_CHECKING:
    from rampart.server.sessions.live import LiveSession

log = logging.getLogger("rampart.server")
OPEN_TIMEOUT = 20.0
RETRY_PAUSE = 0.5
MAX_DIMENSION = 10_000


class Leg:
    """See the module docstring."""

    def __init__(self, live: LiveSession, number: int) -> None:
        self.live, self.number = live, number
        self.agent = Conversation(TOWARD_AGENT, FROM_AGENT)
        self.client = Conversation(FROM_AGENT, TOWARD_AGENT)
        self.to_agent = hashlib.sha256()
        self.from_agent = hashlib.sha256()
        self.done = asyncio.Event()  # the agent side finished: exit, copy done, connection closed
        self.exit: dict[str, Any] | None = None
        self.client_lost_at: float | None = time.monotonic()
        self.closing = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def bytes_in(self) -> int:
        return self.client.received(Stream.STDIN)

    @property
    def bytes_out(self) -> int:
        return self.client.sent(Stream.STDOUT) + self.client.sent(Stream.STDERR)

    def summary(self) -> dict[str, Any]:
        """Byte counts and SHA-256 of everything that went to and came from the host on this leg."""
        return {
            "to_host_sha256": self.to_agent.hexdigest(),
            "from_host_sha256": self.from_agent.hexdigest(),
            "bytes_to_host": self.bytes_in,
            "bytes_from_host": self.agent.received(Stream.STDOUT) + self.agent.received(Stream.STDERR),
        }

    async def open(self) -> None:
        """Start the agent side (raising SessionError with the agent's reason), then the pumps."""
        await self._open_agent(resume=False, timeout=OPEN_TIMEOUT)
        self._tasks = [
            asyncio.create_task(self._from_agent()),
            asyncio.create_task(self._from_client()),
            asyncio.create_task(self._keep_agent()),
        ]

    async def _open_agent(self, *, resume: bool, timeout: float) -> None:
        live = self.live
        connection = await live.state.agents.wait_for(live.spec.host_id, timeout)
        if connection is None:
            raise SessionError(f"host {live.spec.hostname} is not connected")
        meta = live.spec.agent_meta(self.number, resume=resume, grace=live.grace)
        channel = await connection.open_channel("session", PRIORITIES[live.spec.kind], meta)
        try:
            await self.agent.attach(ChannelPipe(channel), timeout)
        except (LinkError, TimeoutError) as error:
            await channel.close()
            reason = channel.close_reason or getattr(error, "message", "") or "no answer"
            raise SessionError(f"the host refused the session: {reason}") from None

    async def _keep_agent(self) -> None:
        """After a drop of the agent's link, resume on its next link within the grace period."""
        while not self.done.is_set():
            await self.agent.detached.wait()
            if self.done.is_set() or self.agent.closed:
                return
            lost, why = time.monotonic(), self.agent.lost_reason
            log.info("session %s: agent side lost (%s); waiting to resume", self.live.spec.id, why)
            if not await self._resume_agent(lost):
                self.live.request_end(
                    f"the host's link was lost ({why}) and not back within the grace period"
                )
                return

    async def _resume_agent(self, lost: float) -> bool:
        while (remaining := self.live.grace - (time.monotonic() - lost)) > 0:
            try:
                await self._open_agent(resume=True, timeout=remaining)
                return True
            except SessionError as error:
                if "unknown session" in error.message:
                    return False
                await asyncio.sleep(RETRY_PAUSE)
            except LinkError:
                await asyncio.sleep(RETRY_PAUSE)
        return False

    # -- pumps -------------------------------------------------------------------------------

    async def _from_agent(self) -> None:
        try:
            while True:
                stream, data = await self.agent.receive()
                await self._relay_out(stream, data)
        except SessionProtocolError as error:
            self.live.request_end(f"the host broke the session protocol: {error.message}")

    async def _relay_out(self, stream: Stream, data: bytes) -> None:
        live = self.live
        if stream is Stream.CTL_OUT:
            await self._on_agent_event(records.parse_event(data), data)
            return
        self.from_agent.update(data)
        live.record_output("o" if stream is Stream.STDOUT else "e", data)
        if stream is Stream.STDOUT:
            live.observe(data)
        await self.client.send(stream, data)

    async def _on_agent_event(self, event: dict[str, Any], raw: bytes) -> None:
        kind = event["type"]
        if kind == "echo":
            self.live.echo = bool(event.get("on"))
        elif kind in {"exit", "copied", "closed", "error"}:
            self.live.record_marker({"leg": self.number, **event})
        if kind in {"exit", "closed"}:
            self.exit = event
        await self.client.send(Stream.CTL_OUT, raw)
        if kind in {"exit", "closed"}:
            self.done.set()
            self.live.leg_done(self)

    async def _from_client(self) -> None:
        try:
            while True:
                stream, data = await self.client.receive()
                await self._relay_in(stream, data)
        except SessionProtocolError as error:
            await self.client.detach(f"protocol error: {error.message}")

    async def _relay_in(self, stream: Stream, data: bytes) -> None:
        if stream is Stream.STDIN:
            self.live.input_seen()
            self.to_agent.update(data)
            self.live.record_input(data)
            await self.agent.send(stream, data)
            return
        event = records.parse_event(data)
        if event["type"] == "resize":
            cols, rows = _dimension(event.get("cols")), _dimension(event.get("rows"))
            self.live.record_resize(cols, rows)
            event = {"type": "resize", "cols": cols, "rows": rows}
        elif event["type"] != "eof":
            raise SessionProtocolError(f"clients may not send {event['type']!r} events")
        await self.agent.send_event(Stream.CTL_IN, event)

    # -- ending ------------------------------------------------------------------------------

    async def finish(self, reason: str, drain: float) -> None:
        """Stop the process if it still runs, give the client what it has not seen, close both sides."""
        if not self.done.is_set() and self.agent.attached.is_set():
            with contextlib.suppress(SessionError):
                await self.agent.send_event(Stream.CTL_IN, {"type": "terminate", "reason": reason[:200]})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), 3.0)
        for task in self._tasks:
            task.cancel()
        delivered = {stream: self.client.sent(stream) for stream in FROM_AGENT}
        with contextlib.suppress(SessionError):
            await self.client.send_event(Stream.CTL_OUT, {"type": "end", "reason": reason[:500]})
        await self._drain_client(delivered, drain)
        await self.client.close(reason[:120])
        await self.agent.close(reason[:120])

    async def _drain_client(self, delivered: dict[Stream, int], limit: float) -> None:
        """Wait (up to ``limit``) until the client has acknowledged everything before the end event;
        a forwarded connection whose client already left has no one to wait for."""
        if self.number > 0 and not self.client.attached.is_set():
            return
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and any(self.client.acked(s) < n for s, n in delivered.items()):
            await asyncio.sleep(0.05)

    def note_client_state(self, now: float) -> float | None:
        """Seconds the client side has been away (None while attached)."""
        if self.client.attached.is_set():
            self.client_lost_at = None
            return None
        if self.client_lost_at is None:
            self.client_lost_at = now
        return now - self.client_lost_at


def _dimension(value: object) -> int:
    if type(value) is not int or not 0 < value <= MAX_DIMENSION:
        raise SessionProtocolError("terminal columns and rows must be integers from 1 to 10000")
    return value
