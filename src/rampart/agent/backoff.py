"""Retry timing for spooled results: jittered exponential backoff as a pure function.

A result that failed to deliver waits ``base * 2**(attempt - 1)`` seconds (capped at ``cap``)
before its next attempt, with "equal jitter": a random point in the upper half of that window.
The jitter spreads a fleet's retries after a server outage; keeping the lower half means a retry
never comes immediately, so a down server is not hammered. The random source is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from rampart.errors import UsageError

_MAX_EXPONENT = 32  # 2**32 s is far past any sensible cap; keeps the float finite


@dataclass(frozen=True)
class Backoff:
    """Backoff settings in seconds: the first retry's window (``base``) and the largest one (``cap``)."""

    base: float = 1.0
    cap: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise UsageError(f"backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}")

    def window(self, attempt: int) -> float:
        """The full backoff window before retry number ``attempt`` (1 for the first retry)."""
        exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait before retry ``attempt``, given ``rand`` drawn uniformly from [0, 1)."""
        half = self.window(attempt) / 2
        return half + half * min(max(rand, 0.0), 1.0)
