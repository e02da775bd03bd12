"""Channels end to end over a memory pair: metadata, refusal, many concurrent streams, JSON messages."""

from __future__ import annotations

import asyncio
import random

import pytest

from rampart.errors import ChannelClosed, ChannelEOF, LinkError, LinkProtocolError
from rampart.link.frames import MAX_OPEN, Priority
from rampart.link.mux import Channel
from unit.link.link_helpers import async_test, linked, open_pair, read_all, send_all, sha


@async_test
async def test_open_metadata_reaches_the_acceptor() -> None:
    async with linked() as (a, b):
        opened = await a.open("shell", "interactive", {"user": "ops", "size": [80, 24]})
        accepted = await b.accept()
        assert (accepted.id, accepted.kind, accepted.priority) == (opened.id, "shell", Priority.INTERACTIVE)
        assert accepted.meta == {"user": "ops", "size": [80, 24]}
        back = await b.open("job", "bulk")
        assert (await a.accept()).kind == "job"
    assert opened.id % 2 == 1
    assert back.id % 2 == 0


@async_test
async def test_bad_open_arguments() -> None:
    async with linked() as (a, _):
        with pytest.raises(LinkError, match="kind"):
            await a.open("no spaces please")
        with pytest.raises(LinkError, match="priority"):
            await a.open("x", "urgent")
        with pytest.raises(LinkError, match="not JSON"):
            await a.open("x", "bulk", {"x": object()})
        with pytest.raises(LinkError, match="limit"):
            await a.open("x", "bulk", {"x": "y" * MAX_OPEN})


@async_test
async def test_refused_channel_reports_the_reason_to_the_opener() -> None:
    async with linked() as (a, b):
        opened = await a.open("tcp", "bulk", {"port": 22})
        accepted = await b.accept()
        await accepted.close("forbidden by policy")
        with pytest.raises(ChannelClosed, match="forbidden by policy"):
            await opened.recv()
        assert opened.close_reason == "forbidden by policy"
        with pytest.raises(ChannelClosed, match="forbidden by policy"):
            await opened.send(b"hello")


@async_test
async def test_local_channel_limit() -> None:
    async with linked(max_channels=2) as (a, _):
        first = await a.open("x")
        await a.open("x")
        with pytest.raises(LinkError, match="too many"):
            await a.open("x")
        await first.close()
        await a.open("x")


@async_test
async def test_peer_refuses_channels_beyond_its_backlog() -> None:
    async with linked(backlog=1) as (a, b):
        kept, extra = await a.open("x"), await a.open("x")
        with pytest.raises(ChannelClosed, match="too many channels"):
            await extra.recv()
        assert (await b.accept()).id == kept.id


async def exchange(out: Channel, into: Channel, seed: int) -> tuple[bool, bool]:
    """Both ends stream random bytes at once on one channel; True where the hashes match."""
    rng = random.Random(seed)
    there, back = rng.randbytes(rng.randrange(0, 300_000)), rng.randbytes(rng.randrange(0, 300_000))
    _, _, got_there, got_back = await asyncio.gather(
        send_all(out, there), send_all(into, back), read_all(into), read_all(out)
    )
    return sha(got_there) == sha(there), sha(got_back) == sha(back)


@async_test
async def test_many_channels_both_ways_keep_their_bytes() -> None:
    rng = random.Random(7)
    async with linked(window=32 * 1024) as (a, b):
        pairs = [await open_pair(a, b, f"s{n}", rng.choice(list(Priority)), {"n": n}) for n in range(40)]
        pairs += [await open_pair(b, a, f"s{n}", rng.choice(list(Priority)), {"n": n}) for n in range(40, 60)]
        assert [into.meta["n"] for _, into in pairs] == list(range(60))
        results = await asyncio.gather(*(exchange(out, into, n) for n, (out, into) in enumerate(pairs)))
    assert results == [(True, True)] * 60
    assert not a._channels
    assert not b._channels


# -- JSON messages ------------------------------------------------------------------------


@async_test
async def test_messages_round_trip_and_end() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        docs = [{"n": n, "text": "é" * n} for n in range(200)] + [None, [], "", 0]
        for doc in docs:
            await out.send_message(doc)
        await out.eof()
        assert [m async for m in into.messages()] == docs
        with pytest.raises(ChannelEOF):
            await into.recv_message()


@async_test
async def test_oversize_message_is_refused_on_both_ends() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        with pytest.raises(LinkProtocolError, match="exceeds the limit"):
            await out.send_message("x" * 100, max_size=50)
        await out.send_message("x" * 100)
        with pytest.raises(LinkProtocolError, match="exceeds the limit"):
            await into.recv_message(max_size=50)
        with pytest.raises(ChannelClosed):
            await into.recv()
        with pytest.raises(ChannelClosed, match="message too large"):
            await out.recv()
        assert not a.closed.is_set()


async def raw_then_eof(out: Channel, data: bytes) -> None:
    await out.send(data)
    await out.eof()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x00", "message header"),
        (b"\x00\x00\x00\x10{}", "inside a message"),
        (b"\x00\x00\x00\x03{x}", "not valid JSON"),
        (b"\xff\xff\xff\xff", "exceeds the limit"),
    ],
)
@async_test
async def test_truncated_and_malformed_messages(data: bytes, expected: str) -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await raw_then_eof(out, data)
        with pytest.raises(LinkProtocolError, match=expected):
            await into.recv_message()


@async_test
async def test_mixed_raw_reads_after_messages() -> None:
    async with linked() as (a, b):
        out, into = await open_pair(a, b)
        await out.send_message({"size": 5})
        await raw_then_eof(out, b"hello")
        assert await into.recv_message() == {"size": 5}
        assert await read_all(into) == b"hello"
