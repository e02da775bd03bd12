"""The spool across real processes: a SIGKILLed producer loses no acknowledged item, and a producer
and a consumer sharing the file lose and duplicate nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from rampart.agent.spool import Spool
from unit.agent.spool_helpers import FakeClock

_PRODUCER = """
import os, signal, sys, time
from pathlib import Path
from rampart.agent.spool import Spool
path, count, suicide = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "suicide"
spool = Spool.open(path, max_bytes=1 << 30, max_items=1_000_000, clock=time.time)
for n in range(count):
    item = spool.put("scan", b"result-%d" % n)
    print(item.id, flush=True)
if suicide:
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _producer(path: Path, count: int, mode: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", _PRODUCER, str(path), str(count), mode]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def _everything(path: Path) -> list[tuple[str, bytes]]:
    with Spool.open(path, max_bytes=1 << 30, max_items=1_000_000, clock=FakeClock(2e10)) as spool:
        return [(i.id, i.payload) for i in spool.lease(1_000_000, 60)]


def _assert_no_duplicates(items: list[tuple[str, bytes]]) -> None:
    assert len({item_id for item_id, _ in items}) == len(items)
    assert len({payload for _, payload in items}) == len(items)


def test_killed_mid_stream_loses_no_acknowledged_put(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    child = _producer(path, 100_000, "run")
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(300)]
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    child.stdout.close()
    found = _everything(path)
    assert set(acknowledged) <= {item_id for item_id, _ in found}
    assert len(found) < 100_000
    _assert_no_duplicates(found)


def test_killed_right_after_the_last_put_returned_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    child = _producer(path, 50, "suicide")
    out, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    acknowledged = out.split()
    assert len(acknowledged) == 50
    assert path.with_name("spool.db-wal").exists()  # killed before any close or checkpoint
    found = _everything(path)
    assert [item_id for item_id, _ in found] == acknowledged
    assert [payload for _, payload in found] == [b"result-%d" % n for n in range(50)]


def test_a_producer_and_a_consumer_in_two_processes_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    count = 400
    with Spool.open(path, max_bytes=1 << 30, max_items=1_000_000, clock=FakeClock()) as consumer:
        child = _producer(path, count, "run")
        received: list[tuple[str, bytes]] = []
        while child.poll() is None or consumer.stats().count:
            batch = consumer.lease(25, 3600)
            received += [(i.id, i.payload) for i in batch]
            consumer.ack(i.id for i in batch)
        out, _ = child.communicate()
    assert child.returncode == 0
    _assert_no_duplicates(received)
    assert [item_id for item_id, _ in received] == out.split()
    assert [payload for _, payload in received] == [b"result-%d" % n for n in range(count)]
