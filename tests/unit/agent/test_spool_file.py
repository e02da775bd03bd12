"""A damaged or foreign spool file gives a clear error naming it; moving it aside recovers, losing nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from rampart.agent import spool_file
from rampart.agent.spool import Spool
from rampart.errors import SpoolCorrupt, SpoolError
from unit.agent.spool_helpers import FakeClock


def _open(path: Path) -> Spool:
    return Spool.open(path, max_bytes=1 << 24, max_items=10_000, clock=FakeClock())


def _filled(path: Path, items: int = 200) -> bytes:
    """A closed (checkpointed) spool of several pages; returns its bytes."""
    with _open(path) as spool:
        for n in range(items):
            spool.put("scan", n.to_bytes(2, "big") * 1500)
    assert not path.with_name(path.name + "-wal").exists()
    return path.read_bytes()


def test_random_bytes_give_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(
        SpoolCorrupt, match=rf"spool file {path} is unreadable \(file is not a database\); move it aside"
    ):
        _open(path)


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.99])
def test_a_truncated_file_gives_a_clear_error(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "spool.db"
    data = _filled(path)
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SpoolCorrupt, match=rf"spool file {path} is unreadable"):
        _open(path)


def test_a_foreign_sqlite_file_is_not_taken_for_a_spool(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(SpoolCorrupt, match="not a rampart spool"):
        _open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    conn.close()


def test_a_spool_from_a_newer_rampart_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    _open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {spool_file.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SpoolError, match="newer than this rampart reads"):
        _open(path)


def test_the_empty_file_a_crash_at_creation_leaves_opens_as_a_new_spool(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.touch()
    with _open(path) as spool:
        assert spool.stats().count == 0


def test_move_aside_keeps_the_bad_file_and_a_new_spool_starts(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    junk = os.urandom(4096)
    path.write_bytes(junk)
    path.with_name("spool.db-wal").write_bytes(b"wal bytes")
    moved = spool_file.move_aside(path, "corrupt-1")
    assert moved == tmp_path / "spool.db.corrupt-1"
    assert moved.read_bytes() == junk
    assert (tmp_path / "spool.db.corrupt-1-wal").read_bytes() == b"wal bytes"
    with _open(path) as spool:
        assert spool.put("scan", b"x").size == 1


def test_move_aside_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    path.write_bytes(b"bad")
    (tmp_path / "spool.db.corrupt").write_bytes(b"older bad")
    with pytest.raises(SpoolError, match="already exists"):
        spool_file.move_aside(path, "corrupt")
    assert path.read_bytes() == b"bad"
    assert (tmp_path / "spool.db.corrupt").read_bytes() == b"older bad"


def test_an_uncreatable_spool_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(SpoolError, match=rf"cannot create spool file {blocker}/spool.db: "):
        _open(blocker / "spool.db")
