"""One channel of a link: an ordered byte stream each way with credit-based flow control, half close,
close with a reason, and length-prefixed JSON messages on top.

The receiver grants credit as the application consumes, so at most ``window`` bytes are ever buffered
per channel; the sender never sends beyond the credit it holds and waits (never sleeps) for more.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from rampart.errors import ChannelClosed, ChannelEOF, LinkClosed, LinkError, LinkProtocolError
from rampart.link.frames import MAX_CREDIT, MAX_FRAME, Frame, OpenInfo, close_frame, credit_frame, data_frame
from rampart.link.messages import check_limit, decode_message, encode_message, message_size
from rampart.link.pulse import Pulse
from rampart.link.scheduler import Lane


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    window: int
    credit_threshold: int
    max_message: int


class _Host(Protocol):
    def _link_error(self) -> LinkClosed | None: ...

    def _push(self, lane: Lane, frame: Frame) -> None: ...

    def _push_link(self, frame: Frame) -> None: ...

    def _forget(self, channel: Channel) -> None: ...


class Channel:
    """A bidirectional stream on a link; get one from ``Mux.open`` or ``Mux.accept``.

    One task at a time should send and one should receive; sends and message reads are serialised.
    """

    def __init__(self, host: _Host, channel_id: int, info: OpenInfo, settings: ChannelSettings) -> None:
        self.id = channel_id
        self.kind = info.kind
        self.priority = info.priority
        self.meta = info.meta
        self.max_message = settings.max_message
        self._host = host
        self._settings = settings
        self._lane = Lane(info.priority)
        self._flow = _Flow()
        self._state = _State()
        self._rbuf: deque[bytes] = deque()
        self._readable = Pulse()
        self._writable = Pulse()
        self._send_lock = asyncio.Lock()
        self._recv_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Channel(id={self.id}, kind={self.kind!r}, priority={self.priority.value!r})"

    @property
    def close_reason(self) -> str | None:
        """The reason the peer gave when it closed this channel, or None while it has not."""
        return self._state.remote_close

    @property
    def credit(self) -> int:
        """Bytes the peer currently lets this side send."""
        return self._flow.send_credit

    @property
    def buffered(self) -> int:
        """Bytes received and not yet read by the application (never above the window)."""
        return sum(len(chunk) for chunk in self._rbuf)

    @property
    def queued(self) -> int:
        """Frames of this channel waiting for the writer."""
        return max(self._lane.unsent, 0)

    # -- sending -----------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        """Queue ``data`` for the peer in frames of at most MAX_FRAME, waiting for credit as needed."""
        async with self._send_lock:
            await self._send(memoryview(data))

    async def _send(self, view: memoryview) -> None:
        while view:
            size = await self._reserve(len(view))
            self._host._push(self._lane, data_frame(self.id, bytes(view[:size])))
            view = view[size:]

    async def _reserve(self, wanted: int) -> int:
        while True:
            self._check_sendable()
            if self._flow.send_credit > 0:
                break
            await self._writable.wait()
        size = min(wanted, self._flow.send_credit, MAX_FRAME)
        self._flow.send_credit -= size
        return size

    def _check_sendable(self) -> None:
        error = self._host._link_error()
        if error is not None:
            raise error
        state = self._state
        if state.local_closed:
            raise ChannelClosed(f"channel {self.id} is closed")
        if state.remote_close is not None:
            raise ChannelClosed(f"channel {self.id} was closed by the peer: {state.remote_close or 'done'}")
        if state.local_fin:
            raise ChannelClosed(f"channel {self.id} already ended its stream")

    async def eof(self) -> None:
        """Half close: the peer reads end of stream after everything sent so far; receiving goes on."""
        async with self._send_lock:
            self._check_sendable()
            self._state.local_fin = True
            self._host._push(self._lane, data_frame(self.id, b"", fin=True))
            self._retire_if_done()

    async def drain(self) -> None:
        """Wait until every frame queued on this channel has been handed to the transport
        (LinkClosed once the link is closed, as queued frames are then dropped)."""
        while True:
            error = self._host._link_error()
            if error is not None:
                raise error
            if self._lane.unsent <= 0:
                return
            await self._lane.drained.wait()

    async def close(self, reason: str = "") -> None:
        """Close both directions after what is already queued; a non-empty reason tells the peer why
        (refusing a channel the peer opened is ``close("reason")`` right after accepting it)."""
        self._close_now(reason)

    def _close_now(self, reason: str) -> None:
        if self._state.local_closed:
            return
        self._state.local_closed = True
        if self._state.registered and self._host._link_error() is None:
            self._host._push(self._lane, close_frame(self.id, reason))
        self._unregister()
        self._wake()

    # -- receiving ---------------------------------------------------------------------------

    async def recv(self, max_bytes: int | None = None) -> bytes:
        """The next bytes from the peer (at most ``max_bytes``), or b"" at end of stream."""
        if max_bytes is not None and max_bytes < 1:
            raise LinkError(f"max_bytes must be positive, not {max_bytes}")
        return await self._take(max_bytes or MAX_FRAME)

    async def _take(self, limit: int) -> bytes:
        while not self._rbuf or self._state.local_closed:
            if self._at_eof():
                return b""
            await self._readable.wait()
        head = self._rbuf[0]
        if len(head) <= limit:
            chunk = self._rbuf.popleft()
        else:
            chunk, self._rbuf[0] = head[:limit], head[limit:]
        self._consumed(len(chunk))
        return chunk

    def _at_eof(self) -> bool:
        state = self._state
        if state.local_closed:
            raise ChannelClosed(f"channel {self.id} is closed")
        if state.remote_fin or state.remote_close == "":
            return True
        error = self._host._link_error()
        if error is not None:
            raise error
        if state.remote_close is not None:
            raise ChannelClosed(f"channel {self.id} was closed by the peer: {state.remote_close}")
        return False

    def _consumed(self, size: int) -> None:
        flow = self._flow
        if self._state.remote_fin or not self._state.registered:
            return
        flow.ungranted += size
        if flow.ungranted >= self._settings.credit_threshold:
            self._host._push_link(credit_frame(self.id, flow.ungranted))
            flow.recv_allowed += flow.ungranted
            flow.ungranted = 0

    async def _read_exactly(self, size: int) -> bytes:
        """``size`` bytes, or fewer only when the stream ends first."""
        out = bytearray()
        while len(out) < size:
            chunk = await self._take(size - len(out))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    # -- messages ----------------------------------------------------------------------------

    async def send_message(self, obj: Any, *, max_size: int | None = None) -> None:
        """Send ``obj`` as one JSON message; LinkProtocolError when it is larger than the limit."""
        header, body = encode_message(obj, check_limit(max_size or self.max_message))
        async with self._send_lock:
            await self._send(memoryview(header))
            await self._send(memoryview(body))

    async def recv_message(self, *, max_size: int | None = None) -> Any:
        """The next JSON message; ChannelEOF at a clean end of stream, LinkProtocolError for a truncated,
        oversize (the channel is then closed) or malformed message."""
        limit = check_limit(max_size or self.max_message)
        async with self._recv_lock:
            header = await self._read_exactly(4)
            if not header:
                raise ChannelEOF(f"channel {self.id} ended")
            try:
                size = message_size(header, limit)
            except LinkProtocolError:
                self._close_now("message too large")
                raise
            body = await self._read_exactly(size)
        if len(body) != size:
            raise LinkProtocolError(f"stream ended inside a message ({len(body)} of {size} bytes)")
        return decode_message(body)

    async def messages(self, *, max_size: int | None = None) -> AsyncIterator[Any]:
        """Every JSON message until the peer ends its stream."""
        while True:
            try:
                message = await self.recv_message(max_size=max_size)
            except ChannelEOF:
                return
            yield message

    # -- link side ---------------------------------------------------------------------------

    def _grant_window(self) -> None:
        """Grant the first window of credit (the opener on open, the acceptor on accept)."""
        if self._flow.granted:
            return
        self._flow.granted = True
        if self._state.registered and self._host._link_error() is None:
            self._flow.recv_allowed += self._settings.window
            self._host._push_link(credit_frame(self.id, self._settings.window))

    def _on_data(self, payload: bytes, fin: bool) -> None:
        if self._state.remote_fin:
            raise LinkProtocolError(f"data after end of stream on channel {self.id}")
        if len(payload) > self._flow.recv_allowed:
            raise LinkProtocolError(
                f"channel {self.id}: peer sent {len(payload)} bytes with only {self._flow.recv_allowed} of credit"
            )
        self._flow.recv_allowed -= len(payload)
        if payload:
            self._rbuf.append(payload)
        if fin:
            self._state.remote_fin = True
            self._retire_if_done()
        self._readable.fire()

    def _on_credit(self, amount: int) -> None:
        if self._flow.send_credit + amount > MAX_CREDIT:
            raise LinkProtocolError(f"channel {self.id}: credit above {MAX_CREDIT} bytes")
        self._flow.send_credit += amount
        self._writable.fire()

    def _on_close(self, reason: str) -> None:
        self._state.remote_close = reason
        self._unregister()
        self._wake()

    def _on_link_closed(self) -> None:
        self._wake()
        self._lane.drained.fire()

    def _retire_if_done(self) -> None:
        if self._state.local_fin and self._state.remote_fin:
            self._unregister()

    def _unregister(self) -> None:
        if self._state.registered:
            self._state.registered = False
            self._host._forget(self)

    def _wake(self) -> None:
        self._readable.fire()
        self._writable.fire()


class _Flow:
    """Credit counters: what the peer lets us send, and what we let it send."""

    __slots__ = ("granted", "recv_allowed", "send_credit", "ungranted")

    def __init__(self) -> None:
        self.granted = False
        self.send_credit = 0
        self.recv_allowed = 0
        self.ungranted = 0


class _State:
    """Which directions are finished or closed, and whether the link still routes frames here."""

    __slots__ = ("local_closed", "local_fin", "registered", "remote_close", "remote_fin")

    def __init__(self) -> None:
        self.local_fin = False
        self.remote_fin = False
        self.local_closed = False
        self.remote_close: str | None = None
        self.registered = True
