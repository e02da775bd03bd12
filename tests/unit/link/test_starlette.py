"""StarletteTransport against an in-memory ASGI peer: message mapping, close handling, a full link."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.websockets import WebSocket

from rampart.errors import LinkClosed, LinkProtocolError
from rampart.link.mux import Mux
from rampart.link.transport import StarletteTransport
from unit.link.link_helpers import async_test, open_pair, read_all, running, send_all

SCOPE: dict[str, Any] = {
    "type": "websocket",
    "path": "/api/v1/agent/link",
    "raw_path": b"/api/v1/agent/link",
    "root_path": "",
    "scheme": "ws",
    "query_string": b"",
    "headers": [],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8443),
    "subprotocols": [],
}


class AsgiClient:
    """The client side of one ASGI websocket: feeds what the app receives, collects what it sends."""

    def __init__(self) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.to_app.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.from_app.put(message)

    async def accepted_socket(self) -> WebSocket:
        ws = WebSocket(dict(SCOPE), receive=self.receive, send=self.send)
        self.to_app.put_nowait({"type": "websocket.connect"})
        await ws.accept()
        assert (await self.from_app.get())["type"] == "websocket.accept"
        return ws


class AsgiPeerTransport:
    """A link transport for the client end of :class:`AsgiClient`."""

    def __init__(self, client: AsgiClient) -> None:
        self.client = client

    async def send(self, data: bytes) -> None:
        await self.client.to_app.put({"type": "websocket.receive", "bytes": data})

    async def recv(self) -> bytes:
        message = await self.client.from_app.get()
        if message["type"] != "websocket.send":
            raise LinkClosed("app closed the websocket")
        data: bytes = message["bytes"]
        return data

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.client.to_app.put({"type": "websocket.disconnect", "code": code})


@async_test
async def test_messages_map_to_bytes_and_errors() -> None:
    client = AsgiClient()
    transport = StarletteTransport(await client.accepted_socket())
    client.to_app.put_nowait({"type": "websocket.receive", "bytes": b"\x00\x01"})
    client.to_app.put_nowait({"type": "websocket.receive", "text": "hi"})
    client.to_app.put_nowait({"type": "websocket.disconnect", "code": 1006})
    assert await transport.recv() == b"\x00\x01"
    with pytest.raises(LinkProtocolError, match="text message"):
        await transport.recv()
    with pytest.raises(LinkClosed, match="1006"):
        await transport.recv()
    with pytest.raises(LinkClosed):
        await transport.recv()


@async_test
async def test_send_and_close() -> None:
    client = AsgiClient()
    transport = StarletteTransport(await client.accepted_socket())
    await transport.send(b"frame")
    assert await client.from_app.get() == {"type": "websocket.send", "bytes": b"frame"}
    await transport.close(1002, "é" * 100)
    closing = await client.from_app.get()
    assert (closing["type"], closing["code"]) == ("websocket.close", 1002)
    assert len(closing["reason"].encode()) <= 123
    await transport.close()
    assert client.from_app.empty()
    with pytest.raises(LinkClosed):
        await transport.send(b"late")


@async_test
async def test_full_link_over_starlette() -> None:
    client = AsgiClient()
    server = Mux(StarletteTransport(await client.accepted_socket()), initiator=False)
    agent = Mux(AsgiPeerTransport(client), initiator=True)
    async with running(server, agent):
        out, into = await open_pair(agent, server, "result", "bulk", {"id": "r1"})
        _, received = await asyncio.gather(send_all(out, b"p" * 300_000), read_all(into))
        await into.send_message({"status": "stored"})
        assert await out.recv_message() == {"status": "stored"}
        assert received == b"p" * 300_000
        assert into.meta == {"id": "r1"}
