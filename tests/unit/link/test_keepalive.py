"""Keepalive: pings on schedule, dead-peer detection and round-trip measurement, driven by a fake clock."""

from __future__ import annotations

import pytest

from rampart.errors import LinkError
from rampart.link.frames import FrameType, ping_frame, reason_of, token_of
from rampart.link.keepalive import Keepalive
from rampart.link.mux import Mux
from rampart.link.transport import memory_pair
from unit.link.link_helpers import FakeClock, RawPeer, async_test, linked, running, until


def test_ping_schedule_and_death() -> None:
    clock = FakeClock()
    keepalive = Keepalive(clock, 15.0, 45.0)
    first = keepalive.next_ping()
    assert first is not None
    clock.advance(14.9)
    assert keepalive.next_ping() is None
    clock.advance(0.1)
    second = keepalive.next_ping()
    assert second is not None
    assert token_of(second) == token_of(first) + 1
    clock.advance(29.9)
    assert not keepalive.expired()
    clock.advance(0.1)
    assert keepalive.expired()
    keepalive.heard()
    assert not keepalive.expired()


def test_round_trip_uses_the_latest_ping_only() -> None:
    clock = FakeClock()
    keepalive = Keepalive(clock, 1.0, 3.0)
    old = keepalive.next_ping()
    clock.advance(1.0)
    new = keepalive.next_ping()
    assert old is not None and new is not None
    clock.advance(0.25)
    keepalive.pong(token_of(old))
    assert keepalive.rtt is None
    keepalive.pong(token_of(new))
    assert keepalive.rtt == 0.25
    keepalive.pong(token_of(new))
    assert keepalive.rtt == 0.25


def test_keepalive_settings_checked() -> None:
    with pytest.raises(LinkError):
        Keepalive(FakeClock(), 0.0, 1.0)
    with pytest.raises(LinkError):
        Keepalive(FakeClock(), 5.0, 5.0)


@async_test
async def test_silent_peer_is_declared_dead_by_the_fake_clock() -> None:
    clock = FakeClock()
    raw_end, mux_end = memory_pair(capacity=1000)
    mux = Mux(mux_end, initiator=True, clock=clock)
    peer = RawPeer(raw_end)
    async with running(mux):
        assert (await peer.recv()).type is FrameType.PING
        clock.advance(30.0)
        await peer.send(ping_frame(7))  # anything heard resets the silence timer
        assert (await peer.recv()).payload == ping_frame(7).payload
        clock.advance(30.0)
        mux.check_keepalive()
        assert not mux.closed.is_set()
        assert (await peer.recv()).type is FrameType.PING
        clock.advance(15.0)
        mux.check_keepalive()
        frame = await peer.recv_until(FrameType.CLOSE)
        assert reason_of(frame) == "keepalive timeout"
    assert mux.close_reason == "keepalive timeout"
    assert mux_end.close_code == 1011


@async_test
async def test_silent_peer_with_tiny_real_timeouts() -> None:
    _, mux_end = memory_pair(capacity=1000)
    mux = Mux(mux_end, initiator=False, keepalive=0.005, dead_after=0.02)
    async with running(mux):
        await mux.closed.wait()
    assert mux.close_reason == "keepalive timeout"


@async_test
async def test_live_peers_measure_rtt_and_stay_up() -> None:
    async with linked(keepalive=0.001, dead_after=30.0) as (a, b):
        await until(lambda: a.stats()["link"]["frames"] >= 10 and b.stats()["link"]["frames"] >= 10)
        await until(lambda: a.rtt is not None and b.rtt is not None)
        assert not a.closed.is_set()
        assert not b.closed.is_set()
    assert a.rtt is not None and a.rtt >= 0
