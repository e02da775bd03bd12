"""Message transports a link runs over: the protocol, websockets and Starlette adapters, an in-memory pair.

A transport moves whole binary messages in order. ``recv`` raises :class:`~rampart.errors.LinkClosed`
once the connection is gone and :class:`~rampart.errors.LinkProtocolError` for a text message.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from websockets.asyncio.connection import Connection
from websockets.exceptions import ConnectionClosed

from rampart.errors import LinkClosed, LinkProtocolError
from rampart.link.frames import clip_reason
from rampart.link.pulse import Pulse

WS_REASON_LIMIT = 123


class Transport(Protocol):
    async def send(self, data: bytes) -> None: ...

    async def recv(self) -> bytes: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class WebSocketsTransport:
    """A ``websockets.asyncio`` client or server connection, binary messages only."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def send(self, data: bytes) -> None:
        try:
            await self._conn.send(data)
        except ConnectionClosed as exc:
            raise LinkClosed(f"websocket closed: {exc}") from None

    async def recv(self) -> bytes:
        try:
            message = await self._conn.recv()
        except ConnectionClosed as exc:
            raise LinkClosed(f"websocket closed: {exc}") from None
        if isinstance(message, str):
            raise LinkProtocolError("text message on a binary link")
        return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._conn.close(code, clip_reason(reason, WS_REASON_LIMIT))


class StarletteTransport:
    """An accepted ``starlette.websockets.WebSocket``, binary messages only."""

    def __init__(self, ws: WebSocket) -> None:
        self._ws = ws

    async def send(self, data: bytes) -> None:
        try:
            await self._ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise LinkClosed(f"websocket closed: {type(exc).__name__}") from None

    async def recv(self) -> bytes:
        try:
            message = await self._ws.receive()
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise LinkClosed(f"websocket closed: {type(exc).__name__}") from None
        if message["type"] == "websocket.disconnect":
            raise LinkClosed(f"websocket closed by peer (code {message.get('code', 1000)})")
        data = message.get("bytes")
        if not isinstance(data, bytes):
            raise LinkProtocolError("text message on a binary link")
        return data

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._ws.application_state != WebSocketState.CONNECTED:
            return
        try:
            await self._ws.close(code, clip_reason(reason, WS_REASON_LIMIT))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


class MemoryTransport:
    """One end of an in-process transport pair holding at most ``capacity`` undelivered messages."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.peer: MemoryTransport | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self._inbox: deque[bytes] = deque()
        self._readable = Pulse()
        self._writable = Pulse()

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def _other(self) -> MemoryTransport:
        if self.peer is None:
            raise LinkClosed("memory transport has no peer")
        return self.peer

    async def send(self, data: bytes) -> None:
        peer = self._other()
        while len(peer._inbox) >= peer.capacity and not (self.closed or peer.closed):
            await peer._writable.wait()
        if self.closed or peer.closed:
            raise LinkClosed("memory transport closed")
        peer._inbox.append(bytes(data))
        peer._readable.fire()
        await asyncio.sleep(0)  # a yield, as a socket write would give the receiver a turn

    async def recv(self) -> bytes:
        while not self._inbox and not (self.closed or self._other().closed):
            await self._readable.wait()
        if self.closed or not self._inbox:
            raise LinkClosed("memory transport closed")
        self._writable.fire()
        return self._inbox.popleft()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.close_code, self.close_reason = code, reason
        for end in (self, self._other()):
            end._readable.fire()
            end._writable.fire()


def memory_pair(capacity: int = 16) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected in-memory transports, for tests and in-process links."""
    left, right = MemoryTransport(capacity), MemoryTransport(capacity)
    left.peer, right.peer = right, left
    return left, right
