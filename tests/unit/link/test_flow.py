"""Credit-based flow control, and peers that break the protocol getting the link closed with a reason."""

from __future__ import annotations

import asyncio

import pytest

from rampart.errors import LinkClosed, LinkError
from rampart.link.frames import (
    HEADER,
    MAX_FRAME,
    Frame,
    FrameType,
    close_frame,
    credit_frame,
    credit_of,
    data_frame,
    encode_open,
    make_open_info,
    reason_of,
)
from rampart.link.mux import Mux
from rampart.link.transport import memory_pair
from unit.link.link_helpers import (
    RawPeer,
    RecordingTransport,
    async_test,
    open_pair,
    read_all,
    running,
    sha,
    spin,
    until,
)

WINDOW = 100_000


def sent_data(recorder: RecordingTransport, channel: int) -> int:
    return sum(len(f.payload) for f in recorder.frames(channel, FrameType.DATA))


@async_test
async def test_sender_stops_at_credit_and_resumes_as_the_receiver_reads() -> None:
    left, right = memory_pair()
    recorder = RecordingTransport(left)
    a, b = Mux(recorder, initiator=True, window=WINDOW), Mux(right, initiator=False, window=WINDOW)
    async with running(a, b):
        out, into = await open_pair(a, b, "upload", "bulk")
        payload = bytes(range(251)) * 2000  # 502,000 bytes, five windows
        sending = asyncio.create_task(out.send(payload))
        await until(lambda: into.buffered == WINDOW)
        await spin()
        assert not sending.done()
        assert sent_data(recorder, out.id) == WINDOW
        assert into.buffered == WINDOW
        assert out.credit == 0
        first = b"".join([await into.recv(10_000) for _ in range(3)])  # past the grant threshold
        await until(lambda: sent_data(recorder, out.id) > WINDOW)
        reader = asyncio.create_task(read_all(into))
        await sending
        await out.eof()
        rest = await reader
        assert sha(first + rest) == sha(payload)
        assert all(len(f.payload) <= MAX_FRAME for f in recorder.frames(out.id, FrameType.DATA))


@async_test
async def test_buffer_never_exceeds_window_with_a_slow_reader() -> None:
    a_t, b_t = memory_pair()
    a, b = Mux(a_t, initiator=True, window=WINDOW), Mux(b_t, initiator=False, window=WINDOW)
    async with running(a, b):
        out, into = await open_pair(a, b, "upload", "bulk")
        payload = b"z" * 1_000_000
        sending = asyncio.create_task(out.send(payload))
        received = 0
        while received < len(payload):
            assert into.buffered <= WINDOW
            received += len(await into.recv(777))
        await sending


@async_test
async def test_message_larger_than_the_window() -> None:
    a_t, b_t = memory_pair()
    a, b = Mux(a_t, initiator=True, window=8192), Mux(b_t, initiator=False, window=8192)
    async with running(a, b):
        out, into = await open_pair(a, b)
        doc = {"packages": [{"name": f"pkg{n}", "version": "1.0"} for n in range(20_000)]}
        sending = asyncio.create_task(out.send_message(doc))
        assert await into.recv_message() == doc
        await sending


# -- misbehaving peers --------------------------------------------------------------------


async def open_raw_channel(peer: RawPeer, mux: Mux, channel_id: int = 1) -> int:
    """Open a channel from the raw (initiator) side; returns the credit the mux granted on accept."""
    info = make_open_info("raw", "bulk", {})
    await peer.send(Frame(channel_id, FrameType.OPEN, encode_open(info)))
    await mux.accept()
    frame = await peer.recv_until(FrameType.CREDIT)
    return credit_of(frame)


async def closed_with(peer: RawPeer, mux: Mux) -> str:
    """The reason the mux sent in its link CLOSE, after checking it closed itself with the same one."""
    frame = await peer.recv_until(FrameType.CLOSE)
    await mux.closed.wait()
    assert frame.channel == 0
    assert mux.close_reason == reason_of(frame)
    return reason_of(frame)


@async_test
async def test_peer_sending_beyond_credit_is_disconnected() -> None:
    raw_end, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=False, window=WINDOW)
    peer = RawPeer(raw_end)
    async with running(mux):
        credit = await open_raw_channel(peer, mux)
        assert credit == WINDOW
        await peer.send(data_frame(1, b"x" * MAX_FRAME))
        await peer.send(data_frame(1, b"x" * (WINDOW - MAX_FRAME + 1)))
        reason = await closed_with(peer, mux)
    assert reason.startswith("protocol error")
    assert "credit" in reason
    assert mux_end.close_code == 1002


@async_test
async def test_data_before_accept_is_beyond_credit() -> None:
    raw_end, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=False)
    peer = RawPeer(raw_end)
    async with running(mux):
        await peer.send(Frame(1, FrameType.OPEN, encode_open(make_open_info("raw", "bulk", {}))))
        await peer.send(data_frame(1, b"early"))
        assert "credit" in await closed_with(peer, mux)
    with pytest.raises(LinkClosed, match="credit"):
        await mux.accept()


def open_payload() -> bytes:
    return encode_open(make_open_info("raw", "control", {}))


VIOLATIONS = {
    "garbage": (b"\x01\x02", "short frame"),
    "unknown type": (HEADER.pack(1, 77, 0) + b"x", "unknown frame type"),
    "data on unknown channel": (HEADER.pack(5, FrameType.DATA, 0) + b"x", "unknown channel"),
    "credit on unknown channel": (
        HEADER.pack(9, FrameType.CREDIT, 0) + b"\x00\x00\x00\x01",
        "unknown channel",
    ),
    "open with even id from initiator": (
        HEADER.pack(2, FrameType.OPEN, 0) + open_payload(),
        "out of sequence",
    ),
    "open with bad metadata": (HEADER.pack(1, FrameType.OPEN, 0) + b'{"kind":1}', "metadata"),
}


@pytest.mark.parametrize(("data", "expected"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
@async_test
async def test_protocol_violations_close_the_link(data: bytes, expected: str) -> None:
    raw_end, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=False)
    peer = RawPeer(raw_end)
    async with running(mux):
        await peer.send_raw(data)
        reason = await closed_with(peer, mux)
    assert reason.startswith("protocol error")
    assert expected in reason


@async_test
async def test_reused_channel_id_and_data_after_eof_are_violations() -> None:
    for second in (
        Frame(1, FrameType.OPEN, open_payload()),
        data_frame(1, b"after the end"),
    ):
        raw_end, mux_end = memory_pair()
        mux = Mux(mux_end, initiator=False)
        peer = RawPeer(raw_end)
        async with running(mux):
            await open_raw_channel(peer, mux)
            await peer.send(data_frame(1, b"", fin=True))
            await peer.send(second)
            reason = await closed_with(peer, mux)
        assert reason.startswith("protocol error")


@async_test
async def test_credit_overflow_is_a_violation() -> None:
    raw_end, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=True)
    peer = RawPeer(raw_end)
    async with running(mux):
        channel = await mux.open("x", "bulk")
        await peer.recv_until(FrameType.OPEN)
        await peer.send(credit_frame(channel.id, 2**32 - 1))
        await peer.send(credit_frame(channel.id, 1))
        assert "credit" in await closed_with(peer, mux)


@async_test
async def test_frames_for_a_channel_closed_here_are_ignored() -> None:
    raw_end, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=False, window=WINDOW)
    peer = RawPeer(raw_end)
    async with running(mux):
        await peer.send(Frame(1, FrameType.OPEN, open_payload()))
        channel = await mux.accept()
        await channel.close("no thanks")
        frame = await peer.recv_until(FrameType.CLOSE)
        assert (frame.channel, reason_of(frame)) == (1, "no thanks")
        await peer.send(data_frame(1, b"in flight"))
        await peer.send(credit_frame(1, 10))
        await peer.send(close_frame(1))
        await peer.send(Frame(3, FrameType.OPEN, open_payload()))
        assert (await mux.accept()).id == 3
        assert not mux.closed.is_set()


@async_test
async def test_open_flood_from_a_peer_that_never_reads_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rampart.link.mux.LINK_QUEUE_LIMIT", 50)
    raw_end, mux_end = memory_pair(capacity=10_000)
    mux = Mux(mux_end, initiator=False, backlog=1, close_timeout=0.01)  # its writer is stuck for good
    peer = RawPeer(raw_end)
    raw_end.capacity = 1  # the mux can write one frame, then the peer's inbox is full
    async with running(mux):
        for channel_id in range(1, 400, 2):
            await peer.send(Frame(channel_id, FrameType.OPEN, open_payload()))
        await mux.closed.wait()
    assert mux.close_reason == "protocol error: peer sends without reading the link's replies"


@async_test
async def test_recv_size_must_be_positive() -> None:
    _, mux_end = memory_pair()
    mux = Mux(mux_end, initiator=True)
    async with running(mux):
        channel = await mux.open("x")
        with pytest.raises(LinkError, match="positive"):
            await channel.recv(0)
