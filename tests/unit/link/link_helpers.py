"""Link test tools: run async tests, a linked pair of muxes, a frame-recording transport, a raw peer, a fake clock."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from rampart.link.channel import Channel
from rampart.link.frames import Frame, FrameType, decode_frame, encode_frame
from rampart.link.mux import Mux
from rampart.link.transport import MemoryTransport, Transport, memory_pair

# A hang becomes a failure instead of a stuck worker; no test asserts on elapsed time.
HANG_GUARD = 60.0


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (pytest fixtures still injected)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        async def guarded() -> None:
            async with asyncio.timeout(HANG_GUARD):
                await fn(*args, **kwargs)

        asyncio.run(guarded())

    return run


async def until(predicate: Callable[[], bool]) -> None:
    """Let the event loop run until ``predicate`` holds (the hang guard bounds it)."""
    while not predicate():
        await asyncio.sleep(0)


async def spin(turns: int = 200) -> None:
    """Give every runnable task many turns; used to show something does *not* happen."""
    for _ in range(turns):
        await asyncio.sleep(0)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingTransport:
    """Wraps a transport and records every frame written, in order, with test markers in between."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.sent: list[Frame | str] = []

    async def send(self, data: bytes) -> None:
        self.sent.append(decode_frame(data))
        await self.inner.send(data)

    async def recv(self) -> bytes:
        return await self.inner.recv()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)

    def mark(self, label: str) -> None:
        self.sent.append(label)

    def frames(self, channel: int | None = None, kind: FrameType | None = None) -> list[Frame]:
        return [
            f
            for f in self.sent
            if isinstance(f, Frame)
            and (channel is None or f.channel == channel)
            and (kind is None or f.type is kind)
        ]


class RawPeer:
    """The far end of a memory transport spoken to frame by frame, to play a misbehaving peer."""

    def __init__(self, transport: MemoryTransport) -> None:
        self.transport = transport

    async def send(self, frame: Frame) -> None:
        await self.transport.send(encode_frame(frame))

    async def send_raw(self, data: bytes) -> None:
        await self.transport.send(data)

    async def recv(self) -> Frame:
        return decode_frame(await self.transport.recv())

    async def recv_until(self, kind: FrameType) -> Frame:
        while True:
            frame = await self.recv()
            if frame.type is kind:
                return frame


@asynccontextmanager
async def running(*muxes: Mux) -> AsyncIterator[None]:
    """Run ``muxes`` for the block; close them after, and fail on an unexpected loop error."""
    tasks = [asyncio.create_task(m.run()) for m in muxes]
    try:
        yield
    finally:
        for mux in muxes:
            await mux.close("test over")
        await asyncio.gather(*tasks)


@asynccontextmanager
async def linked(capacity: int = 16, **settings: Any) -> AsyncIterator[tuple[Mux, Mux]]:
    """An initiator and an acceptor mux over a memory pair, both running."""
    left, right = memory_pair(capacity)
    a, b = Mux(left, initiator=True, **settings), Mux(right, initiator=False, **settings)
    async with running(a, b):
        yield a, b


async def open_pair(
    a: Mux, b: Mux, kind: str = "test", priority: str = "control", meta: dict[str, Any] | None = None
) -> tuple[Channel, Channel]:
    """A channel opened by ``a`` and accepted by ``b``."""
    opened = await a.open(kind, priority, meta)
    accepted = await b.accept()
    return opened, accepted


async def read_all(channel: Channel) -> bytes:
    parts = []
    while chunk := await channel.recv():
        parts.append(chunk)
    return b"".join(parts)


async def send_all(channel: Channel, data: bytes, *, eof: bool = True) -> None:
    await channel.send(data)
    if eof:
        await channel.eof()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def gather_all(*aws: Awaitable[Any]) -> list[Any]:
    return list(await asyncio.gather(*aws))
