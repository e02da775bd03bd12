"""Token-bucket rate limits keyed by client address or user name (login, enrollment)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Allows `burst` requests at once per key, refilled at `per_minute`; remembers at most `max_keys` keys."""

    def __init__(
        self,
        burst: int,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._burst, self._rate = float(burst), per_minute / 60.0
        self._clock, self._max_keys = clock, max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Spend one token for `key`; False when the bucket is empty."""
        with self._lock:
            bucket = self._refill(key, self._clock())
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True

    def _refill(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.pop(key, None) or _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        self._buckets[key] = bucket
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return bucket
