"""Resumable conversations: nothing lost or repeated across dropped and replaced connections."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from rampart.errors import SessionError, SessionProtocolError
from rampart.link.transport import memory_pair
from rampart.session import records
from rampart.session.records import Stream
from rampart.session.streams import Conversation, ReplayBuffer, TransportPipe
from unit.link.link_helpers import async_test

UP = (Stream.STDIN, Stream.CTL_IN)
DOWN = (Stream.STDOUT, Stream.STDERR, Stream.CTL_OUT)


def pair(**kwargs: int) -> tuple[Conversation, Conversation]:
    return Conversation(UP, DOWN, **kwargs), Conversation(DOWN, UP, **kwargs)


async def connect(a: Conversation, b: Conversation) -> tuple[TransportPipe, TransportPipe]:
    left, right = memory_pair(8)
    pa, pb = TransportPipe(left), TransportPipe(right)
    await asyncio.wait_for(asyncio.gather(a.attach(pa), b.attach(pb)), 5)
    return pa, pb


async def drain(conv: Conversation, stream: Stream, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        which, data = await asyncio.wait_for(conv.receive(), 5)
        assert which is stream
        got += data
    return bytes(got)


def test_replay_buffer_acks_and_replays_partial_chunks() -> None:
    buffer = ReplayBuffer()
    for chunk in (b"abc", b"defg", b"hi"):
        buffer.append(chunk)
    assert b"".join(buffer.since(2)) == b"cdefghi"
    buffer.ack(5)
    assert (buffer.start, buffer.unacked) == (5, 4)
    assert b"".join(buffer.since(5)) == b"fghi"
    assert buffer.since(9) == []
    with pytest.raises(SessionProtocolError):
        buffer.since(4)
    with pytest.raises(SessionProtocolError):
        buffer.ack(10)
    buffer.ack(3)  # an old acknowledgement is harmless
    assert buffer.start == 5


@async_test
async def test_bytes_flow_both_ways_and_are_acknowledged() -> None:
    client, agent = pair(ack_every=1024)
    await connect(client, agent)
    await client.send(Stream.STDIN, b"ls\n")
    await agent.send(Stream.STDOUT, b"x" * 5000)
    assert await drain(agent, Stream.STDIN, 3) == b"ls\n"
    assert await drain(client, Stream.STDOUT, 5000) == b"x" * 5000
    for _ in range(100):
        if agent.unacked(Stream.STDOUT) == 0 and client.unacked(Stream.STDIN) == 0:
            break
        await asyncio.sleep(0.05)
    assert agent.unacked(Stream.STDOUT) == 0 and client.unacked(Stream.STDIN) == 0
    await client.close()
    await agent.close()


@async_test
async def test_a_dropped_connection_resumes_without_loss_or_repeat() -> None:
    client, agent = pair(ack_every=4096)
    pa, pb = await connect(client, agent)
    payload = os.urandom(600_000)
    received = bytearray()

    async def produce() -> None:
        for start in range(0, len(payload), 10_000):
            await agent.send(Stream.STDOUT, payload[start : start + 10_000])

    async def consume() -> None:
        while len(received) < len(payload):
            _, data = await client.receive()
            received.extend(data)

    producer = asyncio.create_task(produce())
    consumer = asyncio.create_task(consume())
    for _ in range(3):  # cut the connection (in-flight records are lost) and reconnect, three times
        while len(received) < len(payload) // 4 * (_ + 1):
            await asyncio.sleep(0.001)
        await pa._transport.close(1006)
        await pb._transport.close(1006)
        await asyncio.sleep(0.01)
        pa, pb = await connect(client, agent)
    await asyncio.wait_for(asyncio.gather(producer, consumer), 10)
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()
    assert client.received(Stream.STDOUT) == len(payload) == agent.sent(Stream.STDOUT)


@async_test
async def test_sender_waits_while_detached_and_buffer_is_full() -> None:
    client, agent = pair(buffer_limit=100_000)
    await agent.send(Stream.STDOUT, b"a" * 60_000)  # no pipe yet: buffered
    blocked = asyncio.create_task(agent.send(Stream.STDOUT, b"b" * 60_000))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    await connect(client, agent)
    got = await drain(client, Stream.STDOUT, 120_000)
    await asyncio.wait_for(blocked, 5)
    assert got == b"a" * 60_000 + b"b" * 60_000


@async_test
async def test_events_round_trip_and_closed_conversation_refuses() -> None:
    client, agent = pair()
    await connect(client, agent)
    await client.send_event(Stream.CTL_IN, {"type": "resize", "cols": 100, "rows": 30})
    stream, payload = await asyncio.wait_for(agent.receive(), 5)
    assert stream is Stream.CTL_IN and records.parse_event(payload)["cols"] == 100
    await agent.close()
    with pytest.raises(SessionError):
        await agent.attach(TransportPipe(memory_pair()[0]))


@async_test
async def test_a_peer_that_skips_hello_is_refused() -> None:
    conv = Conversation(UP, DOWN)
    left, right = memory_pair()
    await right.send(records.data(Stream.STDOUT, b"early"))
    with pytest.raises(SessionProtocolError, match="HELLO"):
        await conv.attach(TransportPipe(left))


@async_test
async def test_data_on_a_stream_the_peer_may_not_send_drops_the_pipe() -> None:
    conv = Conversation(UP, DOWN)
    left, right = memory_pair()
    await right.send(records.hello({}))
    await conv.attach(TransportPipe(left))
    await right.send(records.data(Stream.STDIN, b"wrong way"))
    await asyncio.wait_for(conv.detached.wait(), 5)
    assert "unexpected DATA" in conv.lost_reason
