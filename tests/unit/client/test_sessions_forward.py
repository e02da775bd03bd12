"""``forward``: each local TCP connection carried by its own attach, many at once, through a fake that echoes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from rampart.cli.session_io import Forwarder, Stdio
from rampart.client.config import Connection
from rampart.client.sessions import AttachRefused, attach
from rampart.session.streams import Conversation
from unit.client.fake import SECRET
from unit.client.sessions_fake import PKI, FakeSessionServer, forward_echo
from unit.link.link_helpers import async_test

CONNECTIONS = 20


def forwarder(server: FakeSessionServer) -> tuple[Forwarder, Stdio]:
    connection = Connection(server.url, SECRET, PKI.ca_pem)

    def attaching(number: int, conversation: Conversation) -> Any:
        return attach(connection, "s-1", "control", number, conversation, grace=30)

    io_ = Stdio(io.BytesIO(), io.BytesIO(), io.BytesIO())
    return Forwarder(attaching, io_), io_


async def listening(fwd: Forwarder) -> tuple[asyncio.Task[None], int]:
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(fwd.serve("127.0.0.1", 0, port.set_result))
    return task, await port


async def one_client(port: int, index: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = hashlib.shake_256(str(index).encode()).digest(50_000 + index * 1000)
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    echoed = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert echoed == data, index
    return echoed


@async_test
async def test_twenty_connections_at_once_each_get_their_own_attach(tmp_path: Path) -> None:
    with FakeSessionServer(tmp_path, forward_echo).running() as server:
        fwd, io_ = forwarder(server)
        task, port = await listening(fwd)
        results = await asyncio.gather(*(one_client(port, i) for i in range(CONNECTIONS)))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(results) == CONNECTIONS
    assert sorted(h["connection"] for h in server.hellos) == list(range(1, CONNECTIONS + 1))
    assert io_.stderr.getvalue() == b""  # type: ignore[attr-defined]


@async_test
async def test_a_final_refusal_ends_the_forward(tmp_path: Path) -> None:
    with FakeSessionServer(tmp_path, forward_echo, close_code=4410).running() as server:
        fwd, _ = forwarder(server)
        task, port = await listening(fwd)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read() == b""  # the local socket is closed
        writer.close()
        with pytest.raises(AttachRefused, match="session ended"):
            await task
