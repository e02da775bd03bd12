"""The link over a real websockets server and client on 127.0.0.1: 20 MB of bulk while control flows."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rampart.errors import LinkClosed
from rampart.link.mux import Channel, Mux
from rampart.link.transport import WebSocketsTransport
from unit.link.link_helpers import async_test, running, sha, until

BULK_SIZE = 20 * 1024 * 1024


class LinkServer:
    """Serves links: echoes control messages, hashes bulk uploads, and notes where bulk stood per message."""

    def __init__(self) -> None:
        self.muxes: list[Mux] = []
        self.bulk_received = 0
        self.bulk_at_control: list[int] = []

    async def handler(self, conn: ServerConnection) -> None:
        mux = Mux(WebSocketsTransport(conn), initiator=False)
        self.muxes.append(mux)
        runner = asyncio.create_task(mux.run())
        tasks = []
        try:
            while True:
                tasks.append(asyncio.create_task(self.serve(await mux.accept())))
        except LinkClosed:
            pass
        await runner
        await asyncio.gather(*tasks, return_exceptions=True)

    async def serve(self, channel: Channel) -> None:
        if channel.kind == "control":
            async for message in channel.messages():
                self.bulk_at_control.append(self.bulk_received)
                await channel.send_message({"echo": message})
            return
        digest = hashlib.sha256()
        while chunk := await channel.recv():
            digest.update(chunk)
            self.bulk_received += len(chunk)
        await channel.send_message({"sha256": digest.hexdigest(), "size": self.bulk_received})
        await channel.close()


def port_of(server: Server) -> int:
    port: int = next(iter(server.sockets)).getsockname()[1]
    return port


@async_test
async def test_bulk_upload_with_control_traffic_over_websockets() -> None:
    app = LinkServer()
    payload = hashlib.shake_256(b"rampart").digest(1024 * 1024) * (BULK_SIZE // (1024 * 1024))
    async with (
        serve(app.handler, "127.0.0.1", 0, compression=None) as server,
        connect(f"ws://127.0.0.1:{port_of(server)}", compression=None) as conn,
    ):
        mux = Mux(WebSocketsTransport(conn), initiator=True)
        async with running(mux):
            control = await mux.open("control", "control")
            bulk = await mux.open("upload", "bulk", {"size": BULK_SIZE})

            async def upload() -> Any:
                await bulk.send(payload)
                await bulk.eof()
                return await bulk.recv_message()

            uploading = asyncio.create_task(upload())
            await until(lambda: app.bulk_received > 0)
            echoes = []
            for n in range(10):
                await control.send_message({"n": n})
                echoes.append(await control.recv_message())
            result = await uploading
            stats = mux.stats()
    assert result == {"sha256": sha(payload), "size": BULK_SIZE}
    assert echoes == [{"echo": {"n": n}} for n in range(10)]
    assert len(app.bulk_at_control) == 10
    assert max(app.bulk_at_control) < BULK_SIZE  # every control message overtook the tail of the upload
    assert stats["bulk"]["bytes"] > BULK_SIZE
    assert stats["control"]["frames"] >= 10


@async_test
async def test_text_message_is_a_protocol_error() -> None:
    app = LinkServer()
    async with (
        serve(app.handler, "127.0.0.1", 0, compression=None) as server,
        connect(f"ws://127.0.0.1:{port_of(server)}", compression=None) as conn,
    ):
        await conn.send("hello")
        try:
            while True:
                await conn.recv()
        except ConnectionClosed:
            pass
        await until(lambda: bool(app.muxes) and app.muxes[0].closed.is_set())
    assert app.muxes[0].close_reason == "protocol error: text message on a binary link"
    assert conn.close_code == 1002


@async_test
async def test_server_going_away_closes_the_client_link() -> None:
    app = LinkServer()
    async with (
        serve(app.handler, "127.0.0.1", 0, compression=None) as server,
        connect(f"ws://127.0.0.1:{port_of(server)}", compression=None) as conn,
    ):
        mux = Mux(WebSocketsTransport(conn), initiator=True)
        async with running(mux):
            control = await mux.open("control", "control")
            await control.send_message("hi")
            assert await control.recv_message() == {"echo": "hi"}
            await app.muxes[0].close("server shutting down")
            await mux.closed.wait()
    assert mux.close_reason == "closed by peer: server shutting down"
