"""The link multiplexer: many flow-controlled channels over one message transport.

``Mux.run`` drives a reader, a writer and a keepalive loop until the link closes. The writer sends one
frame at a time by strict priority (see :mod:`rampart.link.scheduler`), so bulk transfers never hold
back interactive or control traffic by more than one frame. The initiator opens odd channel ids, the
other side even ones; channel 0 is the link itself. A peer that breaks the protocol gets the link
closed with the reason; closing wakes every waiting send, recv and accept with LinkClosed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from rampart.errors import LinkClosed, LinkError, LinkProtocolError
from rampart.link.channel import Channel, ChannelSettings
from rampart.link.frames import (
    MAX_CHANNEL_ID,
    MAX_FRAME,
    Frame,
    FrameType,
    Priority,
    close_frame,
    credit_of,
    decode_frame,
    decode_open,
    encode_frame,
    encode_open,
    make_open_info,
    pong_frame,
    reason_of,
    token_of,
)
from rampart.link.keepalive import Keepalive
from rampart.link.messages import DEFAULT_MAX_MESSAGE, check_limit
from rampart.link.pulse import Pulse
from rampart.link.scheduler import Lane, Scheduler
from rampart.link.transport import Transport

__all__ = ["Channel", "Mux"]

# Link frames a compliant peer can make us queue are bounded by its channels and credit; far more
# means it stopped reading while still sending (for instance a flood of refused OPENs).
LINK_QUEUE_LIMIT = 65536
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INTERNAL_ERROR = 1011


class Mux:
    """One end of a link. Start :meth:`run` in a task, then :meth:`open` and :meth:`accept` channels."""

    def __init__(
        self,
        transport: Transport,
        *,
        initiator: bool,
        clock: Callable[[], float] = time.monotonic,
        window: int = 256 * 1024,
        keepalive: float = 15.0,
        dead_after: float = 45.0,
        max_channels: int = 1024,
        backlog: int = 64,
        max_message: int = DEFAULT_MAX_MESSAGE,
        close_timeout: float = 5.0,
    ) -> None:
        if not 0 < window <= MAX_CHANNEL_ID or max_channels < 1 or backlog < 1:
            raise LinkError("window, max_channels and backlog must be positive (window below 4 GiB)")
        self.closed = asyncio.Event()
        self.initiator = initiator
        self._transport = transport
        self._keepalive = Keepalive(clock, keepalive, dead_after)
        self._settings = ChannelSettings(
            window, max(1, min(window // 4, MAX_FRAME)), check_limit(max_message)
        )
        self._limits = (max_channels, backlog, close_timeout)
        self._sched = Scheduler()
        self._channels: dict[int, Channel] = {}
        self._backlog: deque[Channel] = deque()
        self._incoming = Pulse()
        self._next_id = 1 if initiator else 2
        self._last_peer_id = 0
        self._close: tuple[str, int] | None = None
        self._running = False
        self._finished = asyncio.Event()
        self._transport_closed = False

    # -- public ------------------------------------------------------------------------------

    @property
    def rtt(self) -> float | None:
        """The latest measured ping round trip in clock seconds, None before the first answer."""
        return self._keepalive.rtt

    @property
    def close_reason(self) -> str | None:
        return None if self._close is None else self._close[0]

    def stats(self) -> dict[str, dict[str, int]]:
        """Frames and bytes written so far, per priority class (plus ``link`` for link frames)."""
        return self._sched.stats()

    async def run(self) -> None:
        """Run the link until it closes; re-raises an unexpected failure of its loops."""
        if self._running:
            raise LinkError("the link is already running")
        self._running = True
        if self.closed.is_set():  # closed before it ever ran
            await self._close_transport()
            self._finished.set()
            return
        loops = (self._read_loop, self._keepalive_loop, self._write_loop)
        tasks = [asyncio.create_task(self._guard(loop)) for loop in loops]
        try:
            await self.closed.wait()
        finally:
            self._mark_closed("link stopped", code=CLOSE_GOING_AWAY)
            error = await self._shutdown(tasks)
        if error is not None:
            raise error

    async def open(
        self, kind: str, priority: Priority | str = Priority.CONTROL, meta: Mapping[str, Any] | None = None
    ) -> Channel:
        """Open a channel; the peer sees it from ``accept`` and may refuse it by closing it with a reason."""
        self._raise_if_closed()
        info = make_open_info(kind, priority, meta)
        payload = encode_open(info)
        if self._next_id > MAX_CHANNEL_ID:
            raise LinkError("channel ids exhausted on this link")
        if len(self._channels) >= self._limits[0]:
            raise LinkError(f"too many open channels ({len(self._channels)})")
        channel = Channel(self, self._next_id, info, self._settings)
        self._channels[channel.id] = channel
        self._next_id += 2
        self._sched.push_link(Frame(channel.id, FrameType.OPEN, payload))
        channel._grant_window()
        return channel

    async def accept(self) -> Channel:
        """The next channel the peer opened; granting it credit now lets the peer start sending.

        Refuse it with ``close(reason)``: the opener's reads then fail with that reason, and anything it
        sent meanwhile is dropped."""
        self._raise_if_closed()
        while not self._backlog:
            await self._incoming.wait()
            self._raise_if_closed()
        channel = self._backlog.popleft()
        channel._grant_window()
        return channel

    async def close(self, reason: str = "closed", code: int = CLOSE_NORMAL) -> None:
        """Close the link, telling the peer why (``code`` is the transport's close code, e.g. a
        WebSocket 4xxx application code); returns once the transport is closed."""
        self._mark_closed(reason, code=code)
        if self._running:
            await self._finished.wait()
        else:
            await self._close_transport()

    def check_keepalive(self) -> None:
        """Ping when due and close the link when the peer has been silent too long (the loop calls this)."""
        if self.closed.is_set():
            return
        if self._keepalive.expired():
            self._mark_closed("keepalive timeout", code=CLOSE_INTERNAL_ERROR)
            return
        ping = self._keepalive.next_ping()
        if ping is not None:
            self._sched.push_link(ping)

    # -- loops -------------------------------------------------------------------------------

    async def _guard(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await loop()
        except Exception as exc:
            self._mark_closed(f"internal error: {type(exc).__name__}", code=CLOSE_INTERNAL_ERROR)
            raise

    async def _read_loop(self) -> None:
        try:
            while True:
                frame = decode_frame(await self._transport.recv())
                self._keepalive.heard()
                self._dispatch(frame)
                if self._sched.link_queued > LINK_QUEUE_LIMIT:
                    raise LinkProtocolError("peer sends without reading the link's replies")
        except LinkProtocolError as exc:
            self._mark_closed(f"protocol error: {exc.message}", code=CLOSE_PROTOCOL_ERROR)
        except LinkClosed as exc:
            self._mark_closed(exc.message, goaway=False)

    async def _write_loop(self) -> None:
        while True:
            item = self._sched.pop()
            if item is None:
                if self.closed.is_set():
                    return
                await self._sched.work.wait()
                continue
            frame, lane = item
            try:
                await self._transport.send(encode_frame(frame))
            except LinkClosed as exc:
                self._mark_closed(exc.message, goaway=False)
                return
            self._sched.sent(frame, lane)

    async def _keepalive_loop(self) -> None:
        while True:
            self.check_keepalive()
            await asyncio.sleep(self._keepalive.check_interval)

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> BaseException | None:
        """Stop reading, let the writer flush the link CLOSE (bounded by close_timeout), close the transport."""
        reader, keeper, writer = tasks
        reader.cancel()
        keeper.cancel()
        await asyncio.wait({writer}, timeout=self._limits[2])
        writer.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await self._close_transport()
        self._finished.set()
        errors = [
            r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
        ]
        return errors[0] if errors else None

    async def _close_transport(self) -> None:
        if not self._transport_closed:
            self._transport_closed = True
            reason, code = self._close or ("closed", CLOSE_NORMAL)
            await self._transport.close(code, reason)

    # -- state -------------------------------------------------------------------------------

    def _mark_closed(self, reason: str, *, code: int = CLOSE_NORMAL, goaway: bool = True) -> None:
        if self._close is not None:
            return
        self._close = (reason, code)
        self.closed.set()
        self._sched.close(close_frame(0, reason) if goaway else None)
        for channel in [*self._channels.values(), *self._backlog]:
            channel._on_link_closed()
        self._incoming.fire()

    def _link_error(self) -> LinkClosed | None:
        return None if self._close is None else LinkClosed(f"link closed: {self._close[0]}")

    def _raise_if_closed(self) -> None:
        error = self._link_error()
        if error is not None:
            raise error

    def _push(self, lane: Lane, frame: Frame) -> None:
        self._sched.push(lane, frame)

    def _push_link(self, frame: Frame) -> None:
        self._sched.push_link(frame)

    def _forget(self, channel: Channel) -> None:
        self._channels.pop(channel.id, None)

    # -- incoming frames ---------------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        match frame.type:
            case FrameType.OPEN:
                self._on_open(frame)
            case FrameType.DATA:
                self._on_channel_frame(frame)
            case FrameType.CREDIT:
                self._on_channel_frame(frame)
            case FrameType.CLOSE:
                self._on_close(frame)
            case FrameType.PING:
                self._sched.push_pong(pong_frame(frame))
            case FrameType.PONG:
                self._keepalive.pong(token_of(frame))

    def _on_open(self, frame: Frame) -> None:
        info = decode_open(frame.payload)
        self._claim_peer_id(frame.channel)
        max_channels, backlog, _ = self._limits
        if len(self._channels) >= max_channels or len(self._backlog) >= backlog:
            self._sched.push_link(close_frame(frame.channel, "too many channels"))
            return
        channel = Channel(self, frame.channel, info, self._settings)
        self._channels[channel.id] = channel
        self._backlog.append(channel)
        self._incoming.fire()

    def _claim_peer_id(self, channel_id: int) -> None:
        peer_parity = 0 if self.initiator else 1
        if channel_id % 2 != peer_parity or channel_id <= self._last_peer_id:
            raise LinkProtocolError(f"peer opened channel {channel_id} out of sequence")
        self._last_peer_id = channel_id

    def _on_channel_frame(self, frame: Frame) -> None:
        channel = self._route(frame)
        if channel is None:
            return
        if frame.type is FrameType.DATA:
            channel._on_data(frame.payload, frame.fin)
        else:
            channel._on_credit(credit_of(frame))

    def _on_close(self, frame: Frame) -> None:
        if frame.channel == 0:
            reason = reason_of(frame)
            self._mark_closed(f"closed by peer: {reason}" if reason else "closed by peer", goaway=False)
            return
        channel = self._route(frame)
        if channel is not None:
            channel._on_close(reason_of(frame))

    def _route(self, frame: Frame) -> Channel | None:
        """The live channel a frame is for; None for a channel already closed here (a frame in flight)."""
        channel = self._channels.get(frame.channel)
        if channel is None and not self._was_used(frame.channel):
            raise LinkProtocolError(f"{frame.type.name} frame for unknown channel {frame.channel}")
        return channel

    def _was_used(self, channel_id: int) -> bool:
        ours = (channel_id % 2 == 1) == self.initiator
        return channel_id < self._next_id if ours else channel_id <= self._last_peer_id
