"""A wake-up signal for coroutines waiting on link state (data, credit, new channels, close)."""

from __future__ import annotations

import asyncio


class Pulse:
    """Wakes every coroutine currently in :meth:`wait`; later waiters wait for the next :meth:`fire`.

    Waiters re-check their condition after waking, so a spurious wake-up is harmless.
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
