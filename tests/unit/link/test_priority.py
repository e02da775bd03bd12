"""Writer scheduling: link frames first, strict priority between classes, round-robin inside one,
and a huge queued bulk transfer never holds back control or interactive traffic by more than a frame."""

from __future__ import annotations

import asyncio

from rampart.link.frames import Frame, FrameType, Priority, credit_frame, data_frame, ping_frame
from rampart.link.mux import Mux
from rampart.link.scheduler import Lane, Scheduler
from rampart.link.transport import memory_pair
from unit.link.link_helpers import RecordingTransport, async_test, open_pair, read_all, running, sha, until


def drain(sched: Scheduler) -> list[Frame]:
    out = []
    while (item := sched.pop()) is not None:
        frame, lane = item
        sched.sent(frame, lane)
        out.append(frame)
    return out


def test_strict_priority_and_round_robin() -> None:
    sched = Scheduler()
    bulk_a, bulk_b = Lane(Priority.BULK), Lane(Priority.BULK)
    control, interactive = Lane(Priority.CONTROL), Lane(Priority.INTERACTIVE)
    for n in range(3):
        sched.push(bulk_a, data_frame(1, b"a%d" % n))
        sched.push(bulk_b, data_frame(3, b"b%d" % n))
    sched.push(control, data_frame(5, b"c0"))
    sched.push(interactive, data_frame(7, b"i0"))
    sched.push_link(credit_frame(9, 10))
    order = [f.payload for f in drain(sched)]
    assert order == [b"\x00\x00\x00\x0a", b"i0", b"c0", b"a0", b"b0", b"a1", b"b1", b"a2", b"b2"]


def test_late_high_priority_frame_overtakes_queued_bulk() -> None:
    sched = Scheduler()
    bulk, control = Lane(Priority.BULK), Lane(Priority.CONTROL)
    for n in range(100):
        sched.push(bulk, data_frame(1, b"%d" % n))
    first = drain_one(sched)
    sched.push(control, data_frame(3, b"now"))
    assert first.payload == b"0"
    assert drain_one(sched).payload == b"now"


def drain_one(sched: Scheduler) -> Frame:
    item = sched.pop()
    assert item is not None
    sched.sent(*item)
    return item[0]


def test_pongs_coalesce_and_stats_count_per_class() -> None:
    sched = Scheduler()
    for token in range(50):
        sched.push_pong(Frame(0, FrameType.PONG, ping_frame(token).payload))
    lane = Lane(Priority.INTERACTIVE)
    sched.push(lane, data_frame(1, b"xyz"))
    frames = drain(sched)
    assert [f.type for f in frames] == [FrameType.PONG, FrameType.DATA]
    assert frames[0].payload == ping_frame(49).payload
    stats = sched.stats()
    assert stats["link"] == {"frames": 1, "bytes": 14}
    assert stats["interactive"] == {"frames": 1, "bytes": 9}
    assert stats["bulk"] == {"frames": 0, "bytes": 0}


def test_close_drops_queued_frames_but_sends_final() -> None:
    sched = Scheduler()
    lane = Lane(Priority.BULK)
    sched.push(lane, data_frame(1, b"x"))
    sched.close(Frame(0, FrameType.CLOSE, b"bye"))
    sched.push(lane, data_frame(1, b"late"))
    assert [f.payload for f in drain(sched)] == [b"bye"]
    assert lane.unsent == 0


BULK_SIZE = 50 * 1024 * 1024


@async_test
async def test_control_message_waits_at_most_one_frame_behind_50mb_of_bulk() -> None:
    left, right = memory_pair(4)
    recorder = RecordingTransport(left)
    big_window = 64 * 1024 * 1024  # the whole 50 MB fits in credit, so all of it is queued at once
    sender = Mux(recorder, initiator=True, window=big_window)
    receiver = Mux(right, initiator=False, window=big_window)
    async with running(sender, receiver):
        bulk_out, bulk_in = await open_pair(sender, receiver, "upload", "bulk")
        ctrl_out, ctrl_in = await open_pair(sender, receiver, "control", "control")
        shell_out, shell_in = await open_pair(sender, receiver, "shell", "interactive")
        payload = bytes(range(256)) * (BULK_SIZE // 256)
        reader = asyncio.create_task(read_all(bulk_in))
        await until(lambda: bulk_out.credit > 0)
        await bulk_out.send(payload)
        await bulk_out.eof()
        assert bulk_out.queued > 700  # 50 MB is sitting in the queue
        await until(lambda: len(recorder.frames(bulk_out.id, FrameType.DATA)) >= 5)
        await ctrl_out.send_message({"op": "cancel"})
        recorder.mark("control queued")
        await until(lambda: bool(recorder.frames(ctrl_out.id, FrameType.DATA)))
        await shell_out.send(b"ls\n")
        recorder.mark("keystroke queued")
        assert await ctrl_in.recv_message() == {"op": "cancel"}
        assert await shell_in.recv() == b"ls\n"
        assert sha(await reader) == sha(payload)
    assert bulk_frames_between(recorder, "control queued", ctrl_out.id) <= 1
    assert bulk_frames_between(recorder, "keystroke queued", shell_out.id) <= 1
    stats = sender.stats()
    assert stats["bulk"]["bytes"] > BULK_SIZE
    assert stats["control"]["frames"] >= 1
    assert stats["interactive"]["frames"] == 1


def bulk_frames_between(recorder: RecordingTransport, marker: str, channel: int) -> int:
    """How many bulk DATA frames were written after ``marker`` before ``channel``'s first DATA frame."""
    start = recorder.sent.index(marker)
    count = 0
    for item in recorder.sent[start + 1 :]:
        if isinstance(item, Frame) and item.channel == channel and item.type is FrameType.DATA:
            return count
        if isinstance(item, Frame) and item.type is FrameType.DATA:
            count += 1
    raise AssertionError(f"channel {channel} never sent after {marker!r}")


@async_test
async def test_bulk_frames_alternate_between_bulk_channels() -> None:
    left, right = memory_pair(4)
    recorder = RecordingTransport(left)
    a, b = Mux(recorder, initiator=True), Mux(right, initiator=False)
    async with running(a, b):
        one_out, one_in = await open_pair(a, b, "one", "bulk")
        two_out, two_in = await open_pair(a, b, "two", "bulk")
        readers = [asyncio.create_task(read_all(ch)) for ch in (one_in, two_in)]
        await until(lambda: one_out.credit > 0 and two_out.credit > 0)
        await one_out.send(b"1" * 200_000)
        await two_out.send(b"2" * 200_000)
        await one_out.eof()
        await two_out.eof()
        assert [len(x) for x in await asyncio.gather(*readers)] == [200_000, 200_000]
    channels = [f.channel for f in recorder.frames(kind=FrameType.DATA) if f.payload]
    assert channels[:6] == [one_out.id, two_out.id] * 3
