"""The spool's contract in one process: put/lease/ack, order, leases, retries, bounds, restarts, stats."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rampart.agent.backoff import Backoff
from rampart.agent.spool import SpoolItem, new_id
from rampart.errors import PayloadTooLarge, SpoolError, SpoolFull, UsageError
from unit.agent.spool_helpers import FakeClock, SpoolFactory


def test_put_lease_ack_round_trip(make_spool: SpoolFactory, clock: FakeClock) -> None:
    spool = make_spool()
    put = spool.put("inventory", b"\x00packages\xff")
    assert (put.id, put.kind, put.size, put.created, put.attempts) == (
        "id-0001",
        "inventory",
        10,
        clock.now,
        0,
    )
    [leased] = spool.lease(10, 30)
    assert leased == put
    assert spool.ack([put.id]) == 1
    clock.advance(3600)
    assert spool.lease(10, 30) == []
    assert spool.stats().count == 0


def test_default_ids_are_distinct_uuid4() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


def test_lease_hands_out_oldest_first_and_respects_limit(make_spool: SpoolFactory, clock: FakeClock) -> None:
    spool = make_spool()
    for n in range(5):
        spool.put("scan", f"r{n}".encode())
        clock.advance(1)
    assert [i.payload for i in spool.lease(2, 30)] == [b"r0", b"r1"]
    assert [i.payload for i in spool.lease(10, 30)] == [b"r2", b"r3", b"r4"]


def test_order_follows_insertion_even_when_the_clock_goes_back(
    make_spool: SpoolFactory, clock: FakeClock
) -> None:
    spool = make_spool()
    spool.put("scan", b"first")
    clock.advance(-100)
    spool.put("scan", b"second")
    assert [i.payload for i in spool.lease(10, 30)] == [b"first", b"second"]


def test_leased_items_are_not_handed_out_again_until_the_lease_expires(
    make_spool: SpoolFactory, clock: FakeClock
) -> None:
    spool = make_spool()
    item = spool.put("scan", b"x")
    assert spool.lease(10, 30) == [item]
    clock.advance(29.9)
    assert spool.lease(10, 30) == []
    clock.advance(0.1)
    assert spool.lease(10, 30) == [item]


def test_lease_is_exclusive_across_two_spool_objects(make_spool: SpoolFactory) -> None:
    first, second = make_spool(), make_spool()
    first.put("scan", b"a")
    first.put("scan", b"b")
    got_first = first.lease(1, 30)
    got_second = second.lease(10, 30)
    assert [i.payload for i in got_first] == [b"a"]
    assert [i.payload for i in got_second] == [b"b"]
    assert first.lease(10, 30) == []


def test_release_schedules_retries_with_jittered_exponential_backoff(
    make_spool: SpoolFactory, clock: FakeClock
) -> None:
    draws = iter([0.0, 1.0, 0.5])
    spool = make_spool(rand=lambda: next(draws), backoff=Backoff(base=10.0, cap=1000.0))
    spool.put("scan", b"x")
    [leased] = spool.lease(1, 60)
    for attempts, delay in [(1, 5.0), (2, 20.0), (3, 30.0)]:
        released_at = clock.now
        assert spool.release([leased.id]) == 1
        clock.now = released_at + delay - 0.001
        assert spool.lease(1, 60) == []
        clock.now = released_at + delay
        [leased] = spool.lease(1, 60)
        assert (leased.attempts, leased.next_attempt) == (attempts, released_at + delay)


def test_release_ignores_unknown_ids_and_counts_repeated_ids_once(make_spool: SpoolFactory) -> None:
    spool = make_spool(rand=lambda: 0.0)
    item = spool.put("scan", b"x")
    assert spool.release([item.id, item.id, "no-such-id"]) == 1
    assert spool.ack(["no-such-id"]) == 0


def test_released_items_wait_behind_ready_ones(make_spool: SpoolFactory, clock: FakeClock) -> None:
    spool = make_spool(rand=lambda: 0.0, backoff=Backoff(base=10.0))
    old = spool.put("scan", b"old")
    spool.put("scan", b"new")
    spool.release([old.id])
    assert [i.payload for i in spool.lease(10, 30)] == [b"new"]
    clock.advance(5)
    assert [i.payload for i in spool.lease(10, 30)] == [b"old"]


def test_bound_on_items_raises_spool_full_and_the_spool_stays_usable(make_spool: SpoolFactory) -> None:
    spool = make_spool(max_items=3)
    items = [spool.put("scan", b"x") for _ in range(3)]
    with pytest.raises(SpoolFull, match=r"is full: 3/3 items, 3/1048576 bytes used; a 2-byte scan result"):
        spool.put("scan", b"yy")
    assert (spool.stats().count, spool.stats().full) == (3, True)
    spool.ack([items[0].id])
    assert spool.stats().full is False
    spool.put("scan", b"z")
    assert [i.payload for i in spool.lease(10, 30)] == [b"x", b"x", b"z"]


def test_bound_on_bytes_raises_spool_full_and_an_exact_fit_is_accepted(make_spool: SpoolFactory) -> None:
    spool = make_spool(max_bytes=10)
    spool.put("scan", b"123456")
    with pytest.raises(SpoolFull, match=r"1/1000 items, 6/10 bytes used; a 5-byte scan result does not fit"):
        spool.put("scan", b"12345")
    assert spool.stats().full is False
    spool.put("scan", b"1234")
    assert (spool.stats().bytes, spool.stats().full) == (10, True)


def test_oversized_payload_is_refused_and_nothing_is_stored(make_spool: SpoolFactory) -> None:
    spool = make_spool(max_payload=8)
    with pytest.raises(
        PayloadTooLarge, match="inventory result of 9 bytes exceeds the spool's per-item cap of 8"
    ):
        spool.put("inventory", b"123456789")
    assert spool.stats().count == 0
    assert spool.put("inventory", b"12345678").size == 8


@pytest.mark.parametrize("kind", ["", "Inventory", "has space", "x" * 65, "1scan"])
def test_bad_kinds_are_refused(make_spool: SpoolFactory, kind: str) -> None:
    with pytest.raises(UsageError, match="kind"):
        make_spool().put(kind, b"x")


@pytest.mark.parametrize("limits", [{"max_items": 0}, {"max_bytes": 0}, {"max_payload": -1}])
def test_bad_limits_are_refused(make_spool: SpoolFactory, limits: dict[str, int]) -> None:
    with pytest.raises(UsageError, match="limits must be positive"):
        make_spool(**limits)


@pytest.mark.parametrize(("limit", "seconds"), [(0, 30.0), (1, 0.0), (1, -5.0)])
def test_bad_lease_requests_are_refused(make_spool: SpoolFactory, limit: int, seconds: float) -> None:
    with pytest.raises(UsageError, match="lease needs"):
        make_spool().lease(limit, seconds)


def test_a_repeated_id_is_refused_without_harming_the_spool(make_spool: SpoolFactory) -> None:
    spool = make_spool(id_factory=lambda: "same")
    spool.put("scan", b"first")
    with pytest.raises(SpoolError, match="refused a write") as raised:
        spool.put("scan", b"second")
    assert type(raised.value) is SpoolError
    assert [i.payload for i in spool.lease(10, 30)] == [b"first"]


def test_items_attempts_and_leases_survive_a_restart(make_spool: SpoolFactory, clock: FakeClock) -> None:
    before = make_spool(rand=lambda: 0.0, backoff=Backoff(base=2.0))
    first, second = before.put("scan", b"a"), before.put("inventory", b"b")
    before.release([first.id])
    before.lease(1, 30)  # leases `second`, then the process goes away
    before.close()
    after = make_spool()
    assert after.lease(10, 30) == []
    clock.advance(30)
    assert after.lease(10, 30) == [
        SpoolItem(first.id, "scan", b"a", 1, first.created, 1, clock.now - 29),
        second,
    ]


def test_stats_report_count_bytes_leases_age_and_fullness(make_spool: SpoolFactory, clock: FakeClock) -> None:
    spool = make_spool(max_items=3)
    empty = spool.stats()
    assert (empty.count, empty.bytes, empty.leased, empty.oldest_age, empty.full) == (0, 0, 0, None, False)
    spool.put("scan", b"abc")
    clock.advance(40)
    spool.put("scan", b"de")
    spool.lease(1, 30)
    clock.advance(2)
    stats = spool.stats()
    assert (stats.count, stats.bytes, stats.leased, stats.oldest_age) == (2, 5, 1, 42.0)
    assert (stats.max_items, stats.max_bytes, stats.full) == (3, 1 << 20, False)


def test_the_file_is_private_and_runs_wal_with_full_sync(make_spool: SpoolFactory, spool_path: Path) -> None:
    make_spool().put("scan", b"x")
    assert spool_path.stat().st_mode & 0o777 == 0o600
    assert spool_path.parent.stat().st_mode & 0o777 == 0o700
    with sqlite3.connect(spool_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_each_connection_commits_with_full_sync(spool_path: Path) -> None:
    from rampart.agent import spool_file

    conn = spool_file.connect(spool_path)
    try:
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)
        assert conn.in_transaction is False
    finally:
        conn.close()


def test_unlease_hands_an_item_back_without_counting_an_attempt(make_spool: SpoolFactory) -> None:
    spool = make_spool()
    item = spool.put("inventory", b"payload", item_id="result-1")
    assert [i.id for i in spool.lease(1, 60)] == ["result-1"] and item.id == "result-1"
    assert spool.lease(1, 60) == []
    assert spool.unlease(["result-1", "unknown"]) == 1
    again = spool.lease(1, 60)
    assert [(i.id, i.attempts, i.next_attempt) for i in again] == [("result-1", 0, 0.0)]


def test_reset_leases_frees_what_a_dead_process_held(make_spool: SpoolFactory) -> None:
    spool = make_spool()
    for n in range(3):
        spool.put("inventory", b"x", item_id=f"r{n}")
    assert len(spool.lease(3, 600)) == 3
    spool.reset_leases()
    assert [i.id for i in spool.lease(3, 600)] == ["r0", "r1", "r2"]
