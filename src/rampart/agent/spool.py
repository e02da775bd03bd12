"""The agent's durable result spool: `Spool`, the `SpoolItem` it hands out and the `SpoolStats` it reports.

Every result the agent produces (inventory, scan, later FIM and hardening) is ``put`` here before
any attempt to send it, and leaves only when the server has acknowledged it:

* **Durable** - ``put`` returns only after the item is committed and fsynced (see `spool_file`), so
  nothing acknowledged is lost to a crash, a power loss or a server that is down or restarting.
* **At least once** - ``lease`` hands out the oldest ready items and hides them for
  ``lease_seconds``; ``ack`` deletes the delivered ones, ``release`` returns failed ones for a retry
  after jittered exponential backoff (`Backoff`). A lease held by a process that died simply
  expires, so its items are handed out again.
* **Stored exactly once** - each item gets a unique id (UUID4) at ``put``; the id travels with the
  payload and the server uses it as an idempotency key, so a re-sent item is stored only once.
* **Bounded** - ``max_items`` and ``max_bytes`` bound the spool and ``max_payload`` each item;
  a ``put`` that would exceed them raises `SpoolFull` / `PayloadTooLarge` and stores nothing,
  never dropping older results silently. ``stats`` says how full it is, for health reporting.

Times are wall-clock seconds from the injected ``clock`` (shared by processes using the same
file); ids and jitter come from injected factories, so tests control all three. One `Spool`
object serves one thread; several processes may open the same file at once.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from random import SystemRandom
from types import TracebackType
from typing import Self

from rampart.agent import spool_file
from rampart.agent.backoff import Backoff
from rampart.errors import PayloadTooLarge, SpoolFull, UsageError

Clock = Callable[[], float]
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_INSERT = "INSERT INTO items (id, kind, payload, size, created, attempts, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)"
_READY = (
    "SELECT seq, id, kind, payload, size, created, attempts, next_attempt FROM items"
    " WHERE leased_until <= ? AND next_attempt <= ? ORDER BY seq LIMIT ?"
)
_USAGE = "SELECT count(*), coalesce(sum(size), 0) FROM items"
_STATS = (
    "SELECT count(*), coalesce(sum(size), 0), min(created), coalesce(sum(leased_until > ?), 0) FROM items"
)

_SYSTEM_RANDOM = SystemRandom().random
_BACKOFF = Backoff()


def new_id() -> str:
    """A fresh random item id (UUID4), the server's idempotency key for the item."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class SpoolItem:
    """One spooled result; ``next_attempt`` is when it may be handed out again (0 for a new item)."""

    id: str
    kind: str
    payload: bytes
    size: int
    created: float
    attempts: int = 0
    next_attempt: float = 0.0

    def as_row(self) -> tuple[str, str, bytes, int, float, int, float]:
        return (self.id, self.kind, self.payload, self.size, self.created, self.attempts, self.next_attempt)


@dataclass(frozen=True)
class SpoolStats:
    """How full the spool is: items, payload bytes, leased items, age of the oldest item (s)."""

    count: int
    bytes: int
    leased: int
    oldest_age: float | None
    max_items: int
    max_bytes: int
    full: bool


@dataclass(frozen=True)
class SpoolLimits:
    """The spool's bounds: total items, total payload bytes, payload bytes of one item."""

    max_items: int
    max_bytes: int
    max_payload: int = DEFAULT_MAX_PAYLOAD

    def __post_init__(self) -> None:
        if min(self.max_items, self.max_bytes, self.max_payload) < 1:
            raise UsageError(f"spool limits must be positive, got {self}")

    def is_full(self, count: int, used: int) -> bool:
        return count >= self.max_items or used >= self.max_bytes


class Spool:
    """A durable, bounded queue of results waiting for delivery, in one SQLite file."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        limits: SpoolLimits,
        clock: Clock,
        id_factory: Callable[[], str] = new_id,
        rand: Callable[[], float] = _SYSTEM_RANDOM,
        backoff: Backoff = _BACKOFF,
    ) -> None:
        self._conn = conn
        self.path = path
        self.limits = limits
        self._clock = clock
        self._new_id = id_factory
        self._rand = rand
        self._backoff = backoff

    @classmethod
    def open(
        cls,
        path: Path,
        max_bytes: int,
        max_items: int,
        clock: Clock,
        *,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        id_factory: Callable[[], str] = new_id,
        rand: Callable[[], float] = _SYSTEM_RANDOM,
        backoff: Backoff = _BACKOFF,
    ) -> Spool:
        """Open or create the spool at ``path``; `SpoolCorrupt` (naming the file) when it is damaged."""
        limits = SpoolLimits(max_items, max_bytes, max_payload)
        conn = spool_file.connect(path)
        return cls(conn, path, limits, clock, id_factory, rand, backoff)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def put(self, kind: str, payload: bytes, item_id: str | None = None) -> SpoolItem:
        """Store one result durably and return it with its id (``item_id`` when the payload already
        carries its idempotency key); `SpoolFull` when it does not fit."""
        data = bytes(payload)
        self._check_item(kind, len(data))
        item = SpoolItem(item_id or self._new_id(), kind, data, len(data), self._clock())
        with self._write() as conn:
            self._check_room(conn, item)
            conn.execute(_INSERT, item.as_row())
        return item

    def lease(self, limit: int, lease_seconds: float) -> list[SpoolItem]:
        """Hand out up to ``limit`` of the oldest ready items, hidden from other leases for ``lease_seconds``."""
        if limit < 1 or lease_seconds <= 0:
            raise UsageError(f"lease needs limit >= 1 and lease_seconds > 0, got {limit}, {lease_seconds}")
        now = self._clock()
        with self._write() as conn:
            rows = conn.execute(_READY, (now, now, limit)).fetchall()
            until = now + lease_seconds
            conn.executemany("UPDATE items SET leased_until = ? WHERE seq = ?", [(until, r[0]) for r in rows])
        return [SpoolItem(*row[1:]) for row in rows]

    def ack(self, ids: Iterable[str]) -> int:
        """Delete delivered items; returns how many were still present (unknown ids are ignored)."""
        with self._write() as conn:
            cursor = conn.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in dict.fromkeys(ids)])
        return max(cursor.rowcount, 0)

    def release(self, ids: Iterable[str]) -> int:
        """Return undelivered items for a retry after backoff, counting the attempt; returns how many."""
        now = self._clock()
        with self._write() as conn:
            found = [self._attempts(conn, i) for i in dict.fromkeys(ids)]
            updates = [self._retry(now, i, n + 1) for i, n in found if n is not None]
            conn.executemany(
                "UPDATE items SET attempts = ?, next_attempt = ?, leased_until = 0 WHERE id = ?", updates
            )
        return len(updates)

    def unlease(self, ids: Iterable[str]) -> int:
        """Hand leased items back at once, without counting an attempt (the link failed, not the item)."""
        with self._write() as conn:
            cursor = conn.executemany(
                "UPDATE items SET leased_until = 0 WHERE id = ?", [(i,) for i in dict.fromkeys(ids)]
            )
        return max(cursor.rowcount, 0)

    def reset_leases(self) -> None:
        """Forget every lease (a new agent process holds none; the old one's died with it)."""
        with self._write() as conn:
            conn.execute("UPDATE items SET leased_until = 0 WHERE leased_until > 0")

    def stats(self) -> SpoolStats:
        """Counts and sizes for health reporting; ``full`` means the next ``put`` would be refused."""
        now = self._clock()
        with spool_file.translate(self.path):
            count, used, oldest, leased = self._conn.execute(_STATS, (now,)).fetchone()
        age = None if oldest is None else max(0.0, now - oldest)
        limits = self.limits
        full = limits.is_full(count, used)
        return SpoolStats(count, used, leased, age, limits.max_items, limits.max_bytes, full)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with spool_file.translate(self.path), spool_file.write_transaction(self._conn) as conn:
            yield conn

    def _check_item(self, kind: str, size: int) -> None:
        if not _KIND.fullmatch(kind):
            raise UsageError(f"spool item kind {kind!r} is not a short lowercase name")
        if size > self.limits.max_payload:
            raise PayloadTooLarge(
                f"{kind} result of {size} bytes exceeds the spool's per-item cap of {self.limits.max_payload} bytes"
            )

    def _check_room(self, conn: sqlite3.Connection, item: SpoolItem) -> None:
        count, used = conn.execute(_USAGE).fetchone()
        limits = self.limits
        if count + 1 > limits.max_items or used + item.size > limits.max_bytes:
            raise SpoolFull(
                f"spool {self.path} is full: {count}/{limits.max_items} items, "
                f"{used}/{limits.max_bytes} bytes used; a {item.size}-byte {item.kind} result does not fit"
            )

    def _attempts(self, conn: sqlite3.Connection, item_id: str) -> tuple[str, int | None]:
        row = conn.execute("SELECT attempts FROM items WHERE id = ?", (item_id,)).fetchone()
        return item_id, None if row is None else int(row[0])

    def _retry(self, now: float, item_id: str, attempt: int) -> tuple[int, float, str]:
        return attempt, now + self._backoff.delay(attempt, self._rand()), item_id
