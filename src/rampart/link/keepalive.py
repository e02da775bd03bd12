"""Keepalive bookkeeping of one link: when to ping, when the peer counts as dead, the measured round trip."""

from __future__ import annotations

from collections.abc import Callable

from rampart.errors import LinkError
from rampart.link.frames import Frame, ping_frame


class Keepalive:
    """Pings every ``every`` seconds of ``clock``; the peer is dead after ``dead_after`` seconds of silence."""

    def __init__(self, clock: Callable[[], float], every: float, dead_after: float) -> None:
        if not 0 < every < dead_after:
            raise LinkError(f"keepalive needs 0 < interval < dead_after, got {every} and {dead_after}")
        self._clock = clock
        self.every = every
        self.dead_after = dead_after
        self._last_heard = clock()
        self._last_ping: float | None = None
        self._pending: tuple[int, float] | None = None
        self._token = 0
        self.rtt: float | None = None

    @property
    def check_interval(self) -> float:
        """How often the link should call :meth:`expired` and :meth:`next_ping`."""
        return self.every / 4

    def heard(self) -> None:
        self._last_heard = self._clock()

    def expired(self) -> bool:
        return self._clock() - self._last_heard >= self.dead_after

    def next_ping(self) -> Frame | None:
        """A PING frame when one is due, else None."""
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.every:
            return None
        self._token += 1
        self._last_ping = now
        self._pending = (self._token, now)
        return ping_frame(self._token)

    def pong(self, token: int) -> None:
        """Record the round trip when ``token`` answers the latest ping; stale answers are ignored."""
        if self._pending is not None and self._pending[0] == token:
            self.rtt = self._clock() - self._pending[1]
            self._pending = None
