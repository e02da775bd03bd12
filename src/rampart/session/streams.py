"""Resumable conversations: byte streams that survive the loss and replacement of their connection.

A `Conversation` is one side of a session leg (client to server, or server to agent). Every byte it sends
stays in a replay buffer until the peer acknowledges it; after a drop, `attach` on a new pipe
exchanges HELLO records (what each side has received) and resends exactly what the peer lacks, so
nothing is lost or repeated. Senders wait when a stream holds ``buffer_limit`` unacknowledged bytes,
and the reader stops when the inbox is full: back pressure reaches the process or socket at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any, Protocol

from rampart.errors import LinkClosed, LinkError, SessionError, SessionProtocolError
from rampart.link.channel import Channel
from rampart.link.pulse import Pulse
from rampart.link.transport import Transport
from rampart.session import records
from rampart.session.records import Record, RecordReader, RecordType, Stream

log = logging.getLogger("rampart.session")
PIECE = records.MAX_PAYLOAD - records.HEADER_SIZE  # one record fills one link frame exactly
ATTACH_TIMEOUT = 15.0
_PIPE_FAILURES = (LinkError, SessionError, OSError)


class RecordPipe(Protocol):
    """One connection carrying records, in order, both ways."""

    async def send(self, record: bytes) -> None: ...

    async def recv(self) -> Record: ...

    async def close(self, reason: str = "") -> None: ...


class TransportPipe:
    """Records over a message transport (a WebSocket): one record per message."""

    def __init__(self, transport: Transport, close_code: int = 1000) -> None:
        self._transport, self.close_code = transport, close_code

    async def send(self, record: bytes) -> None:
        await self._transport.send(record)

    async def recv(self) -> Record:
        return records.decode(await self._transport.recv())

    async def close(self, reason: str = "") -> None:
        await self._transport.close(self.close_code, reason)


class ChannelPipe:
    """Records over a link channel's byte stream."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._reader = RecordReader()
        self._ready: deque[Record] = deque()

    async def send(self, record: bytes) -> None:
        await self.channel.send(record)

    async def recv(self) -> Record:
        while not self._ready:
            chunk = await self.channel.recv()
            if not chunk:
                raise LinkClosed("the session channel ended")
            self._ready.extend(self._reader.feed(chunk))
        return self._ready.popleft()

    async def close(self, reason: str = "") -> None:
        await self.channel.close(reason)


class ReplayBuffer:
    """The bytes of one outgoing stream from the peer's last acknowledgement to what was sent."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self.start = 0  # offset of the first byte kept
        self.end = 0  # total bytes ever appended

    @property
    def unacked(self) -> int:
        return self.end - self.start

    def append(self, data: bytes) -> None:
        self._chunks.append(data)
        self.end += len(data)

    def ack(self, total: int) -> None:
        """Forget everything before ``total``; an offset outside what was kept is a protocol error."""
        if not self.start <= total <= self.end:
            if total < self.start:
                return  # an old acknowledgement overtaken by a newer one
            raise SessionProtocolError(f"peer acknowledged {total} bytes but only {self.end} were sent")
        while self._chunks and self.start + len(self._chunks[0]) <= total:
            self.start += len(self._chunks.popleft())
        if self.start < total:
            self._chunks[0] = self._chunks[0][total - self.start :]
            self.start = total

    def since(self, offset: int) -> list[bytes]:
        """The kept bytes from ``offset`` to the end, as chunks."""
        if offset < self.start:
            raise SessionProtocolError(f"bytes from {offset} were already discarded (kept from {self.start})")
        out: list[bytes] = []
        position = self.end
        for chunk in reversed(self._chunks):
            if position <= offset:
                break
            begin = position - len(chunk)
            out.append(chunk[max(0, offset - begin) :])
            position = begin
        out.reverse()
        return out


class Conversation:
    """One side of a resumable session leg; see the module docstring."""

    def __init__(
        self,
        outgoing: Iterable[Stream],
        incoming: Iterable[Stream],
        *,
        buffer_limit: int = 8 * 1024 * 1024,
        inbox_records: int = 64,
        ack_every: int = 128 * 1024,
        ack_delay: float = 0.1,
    ) -> None:
        self._out = {stream: ReplayBuffer() for stream in outgoing}
        self._sent = dict.fromkeys(self._out, 0)  # offset written to the current pipe
        self._received = dict.fromkeys(incoming, 0)
        self._owed = dict.fromkeys(self._received, 0)  # received but not yet acknowledged
        self._limits = (buffer_limit, ack_every, ack_delay)
        self._inbox: asyncio.Queue[tuple[Stream, bytes]] = asyncio.Queue(inbox_records)
        self._pipe: RecordPipe | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock = asyncio.Lock()
        self._acked = Pulse()
        self._owing = asyncio.Event()
        self._ack_now = asyncio.Event()
        self.attached = asyncio.Event()
        self.detached = asyncio.Event()
        self.detached.set()
        self.lost_reason = ""
        self.closed = False

    # -- state -------------------------------------------------------------------------------

    def sent(self, stream: Stream) -> int:
        """Bytes ever sent on ``stream``."""
        return self._out[stream].end

    def received(self, stream: Stream) -> int:
        """Bytes ever received on ``stream``."""
        return self._received[stream]

    def unacked(self, stream: Stream) -> int:
        return self._out[stream].unacked

    def acked(self, stream: Stream) -> int:
        """Bytes of ``stream`` the peer has acknowledged."""
        return self._out[stream].start

    # -- attaching ---------------------------------------------------------------------------

    async def attach(self, pipe: RecordPipe, timeout: float = ATTACH_TIMEOUT) -> None:
        """Use ``pipe`` from now on: exchange HELLOs, resend what the peer lacks, start reading."""
        if self.closed:
            raise SessionError("the session is over")
        await self.detach("replaced by a newer connection")
        await pipe.send(records.hello(self._received))
        first = await asyncio.wait_for(pipe.recv(), timeout)
        if first.type is not RecordType.HELLO:
            raise SessionProtocolError("the peer did not start with HELLO")
        await self._resume(pipe, records.hello_received(first))
        self._tasks = [asyncio.create_task(self._read(pipe)), asyncio.create_task(self._ack_later(pipe))]
        self.detached.clear()
        self.attached.set()

    async def _resume(self, pipe: RecordPipe, peer: dict[Stream, int]) -> None:
        async with self._write_lock:
            for stream, buffer in self._out.items():
                offset = peer.get(stream, 0)
                buffer.ack(offset)
                if offset < buffer.start:
                    raise SessionProtocolError(
                        f"stream {stream.name}: the peer lost bytes already acknowledged"
                    )
                self._sent[stream] = offset
            self._pipe = pipe
            for stream in self._out:
                await self._flush_locked(stream)
            await self._send_acks_locked(force=True)

    async def detach(self, reason: str) -> None:
        """Stop using the current pipe (if any) and close it; buffered data waits for the next."""
        pipe = self._pipe
        self._drop(pipe, reason)
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if pipe is not None:
            with contextlib.suppress(*_PIPE_FAILURES):
                await pipe.close(reason[:120])

    def _drop(self, pipe: RecordPipe | None, reason: str) -> None:
        if pipe is None or self._pipe is not pipe:
            return
        self._pipe = None
        self.lost_reason = reason
        self.attached.clear()
        self.detached.set()
        self._acked.fire()

    async def close(self, reason: str = "session ended") -> None:
        """End the conversation for good, acknowledging what arrived so the peer need not keep it."""
        self.closed = True
        async with self._write_lock:
            await self._send_acks_locked()
        await self.detach(reason)
        self._acked.fire()

    # -- sending -----------------------------------------------------------------------------

    async def send(self, stream: Stream, data: bytes) -> None:
        """Send ``data`` on ``stream``; waits while the stream holds too many unacknowledged bytes."""
        view = memoryview(data)
        while view:
            piece, view = bytes(view[:PIECE]), view[PIECE:]
            await self._room(stream, len(piece))
            self._out[stream].append(piece)
            async with self._write_lock:
                await self._flush_locked(stream)

    async def send_event(self, stream: Stream, event: dict[str, Any]) -> None:
        await self.send(stream, records.event(event))

    async def _room(self, stream: Stream, size: int) -> None:
        buffer, limit = self._out[stream], self._limits[0]
        while buffer.unacked and buffer.unacked + size > limit:
            if self.closed:
                raise SessionError("the session is over")
            await self._acked.wait()

    async def _flush_locked(self, stream: Stream) -> None:
        pipe = self._pipe
        if pipe is None:
            return
        try:
            for chunk in self._out[stream].since(self._sent[stream]):
                await pipe.send(records.data(stream, chunk))
                self._sent[stream] += len(chunk)
        except _PIPE_FAILURES as error:
            self._drop(pipe, _why(error))

    # -- receiving ---------------------------------------------------------------------------

    async def receive(self) -> tuple[Stream, bytes]:
        """The next (stream, bytes) from the peer, in order per stream."""
        if self.closed and self._inbox.empty():
            raise SessionError("the session is over")
        return await self._inbox.get()

    def receive_nowait(self) -> tuple[Stream, bytes] | None:
        try:
            return self._inbox.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def _read(self, pipe: RecordPipe) -> None:
        try:
            while True:
                await self._on_record(await pipe.recv())
        except _PIPE_FAILURES as error:
            self._drop(pipe, _why(error))
            with contextlib.suppress(*_PIPE_FAILURES):
                await pipe.close(_why(error)[:120])

    async def _on_record(self, record: Record) -> None:
        if record.type is RecordType.ACK:
            self._on_ack(record)
        elif record.type is RecordType.DATA and record.stream in self._received:
            await self._inbox.put((record.stream, record.payload))
            self._received[record.stream] += len(record.payload)
            self._owe(record.stream, len(record.payload))
        else:
            raise SessionProtocolError(f"unexpected {record.type.name} record on stream {record.stream.name}")

    def _on_ack(self, record: Record) -> None:
        buffer = self._out.get(record.stream)
        if buffer is None:
            raise SessionProtocolError(f"ACK for stream {record.stream.name}, which this side never sends")
        buffer.ack(records.ack_offset(record))
        self._acked.fire()

    def _owe(self, stream: Stream, size: int) -> None:
        self._owed[stream] += size
        self._owing.set()
        if self._owed[stream] >= self._limits[1]:
            self._ack_now.set()

    async def _ack_later(self, pipe: RecordPipe) -> None:
        """Acknowledge received bytes within ``ack_delay``, at once when ``ack_every`` bytes are owed
        (a sender may hold only ``buffer_limit`` unacknowledged bytes, so a late ack stalls it)."""
        while self._pipe is pipe:
            await self._owing.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ack_now.wait(), self._limits[2])
            self._owing.clear()
            self._ack_now.clear()
            async with self._write_lock:
                await self._send_acks_locked()

    async def _send_acks_locked(self, *, force: bool = False) -> None:
        pipe = self._pipe
        if pipe is None:
            return
        try:
            for stream, owed in self._owed.items():
                if owed or force:
                    self._owed[stream] = 0
                    await pipe.send(records.ack(stream, self._received[stream]))
        except _PIPE_FAILURES as error:
            self._drop(pipe, _why(error))


def _why(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error) or type(error).__name__
