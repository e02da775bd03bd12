"""Spool test helpers: a fake clock and a counting id factory."""

from __future__ import annotations

from collections.abc import Callable

from rampart.agent.spool import Spool


class FakeClock:
    """Wall-clock stand-in that only moves when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Counter:
    """Ids ``id-0001``, ``id-0002``, ... in call order."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id-{self.n:04d}"


SpoolFactory = Callable[..., Spool]
