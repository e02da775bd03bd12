"""Shutdown: closing the link wakes every waiter with LinkClosed; channel close and half close."""

from __future__ import annotations

import asyncio

import pytest

from rampart.errors import ChannelClosed, LinkClosed, LinkError
from rampart.link.mux import Mux
from rampart.link.transport import memory_pair
from unit.link.link_helpers import async_test, linked, open_pair, read_all, running, spin, until


@async_test
async def test_closing_the_link_wakes_every_waiter() -> None:
    async with linked(window=1000) as (a, b):
        out, _ = await open_pair(a, b, "x", "bulk")
        _, quiet = await open_pair(a, b, "y", "control")
        waiters = [
            asyncio.create_task(quiet.recv()),
            asyncio.create_task(out.recv()),
            asyncio.create_task(out.send(b"x" * 5000)),  # blocks once the 1000-byte credit is used
            asyncio.create_task(a.accept()),
            asyncio.create_task(b.accept()),
            asyncio.create_task(out.send_message({"big": "y" * 5000})),
        ]
        await until(lambda: out.credit == 0)
        await spin()
        assert not any(w.done() for w in waiters)
        await a.close("maintenance")
        results = await asyncio.gather(*waiters, return_exceptions=True)
        assert all(isinstance(r, LinkClosed) for r in results), results
        await b.closed.wait()
    assert a.close_reason == "maintenance"
    assert b.close_reason == "closed by peer: maintenance"
    with pytest.raises(LinkClosed, match="maintenance"):
        await a.open("x")
    with pytest.raises(LinkClosed):
        await out.drain()


@async_test
async def test_half_close_each_way() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await out.send(b"request")
        await out.eof()
        with pytest.raises(ChannelClosed, match="ended"):
            await out.send(b"more")
        assert await read_all(into) == b"request"
        assert await into.recv() == b""
        await into.send(b"reply")
        await into.eof()
        assert await read_all(out) == b"reply"
    assert not a._channels
    assert not b._channels


@async_test
async def test_close_delivers_queued_data_then_end_of_stream() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await out.send_message({"status": "stored"})
        await out.close()
        with pytest.raises(ChannelClosed, match="is closed"):
            await out.send(b"late")
        with pytest.raises(ChannelClosed, match="is closed"):
            await out.recv()
        assert await into.recv_message() == {"status": "stored"}
        assert await into.recv() == b""
        assert into.close_reason == ""
        with pytest.raises(ChannelClosed, match="closed by the peer"):
            await into.send(b"too late")
        await into.close()


@async_test
async def test_drain_waits_for_the_writer() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await out.send(b"x" * 200_000)
        reader = asyncio.create_task(read_all(into))
        await out.drain()
        assert out.queued == 0
        await out.eof()
        assert len(await reader) == 200_000


@async_test
async def test_losing_the_transport_closes_the_link() -> None:
    left, right = memory_pair()
    a, b = Mux(left, initiator=True), Mux(right, initiator=False)
    async with running(a, b):
        out, into = await open_pair(a, b)
        waiter = asyncio.create_task(into.recv())
        await right.close()
        await a.closed.wait()
        await b.closed.wait()
        with pytest.raises(LinkClosed, match="memory transport closed"):
            await waiter
        with pytest.raises(LinkClosed):
            await out.send(b"x")


@async_test
async def test_cancelling_run_closes_the_transport() -> None:
    left, _ = memory_pair()
    mux = Mux(left, initiator=True)
    task = asyncio.create_task(mux.run())
    await spin(5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert mux.closed.is_set()
    assert left.closed
    assert mux.close_reason == "link stopped"


@async_test
async def test_run_twice_and_close_before_run() -> None:
    left, _ = memory_pair()
    mux = Mux(left, initiator=True)
    await mux.close("never started")
    assert left.close_reason == "never started"
    await mux.run()
    with pytest.raises(LinkError, match="already running"):
        await mux.run()


def test_bad_settings() -> None:
    left, _ = memory_pair()
    for settings in (
        {"window": 0},
        {"backlog": 0},
        {"keepalive": 50.0, "dead_after": 45.0},
        {"max_message": 0},
    ):
        with pytest.raises(LinkError):
            Mux(left, initiator=True, **settings)  # type: ignore[arg-type]


@async_test
async def test_both_sides_closing_a_channel_at_once() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await asyncio.gather(out.close("a"), into.close("b"))
        again_out, again_in = await open_pair(a, b)
        await again_out.send_message("still up")
        assert await again_in.recv_message() == "still up"
        assert not a.closed.is_set()
