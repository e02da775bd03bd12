"""The spool's SQLite file: creating, opening, checking and setting it up, and moving a bad one aside.

Durability: the file runs in WAL mode with ``synchronous=FULL``. In WAL mode a commit appends the
transaction to the ``-wal`` file; with FULL, SQLite fsyncs that file before the commit returns, so
a ``put`` that has returned survives a process crash *and* a power loss or kernel panic. (WAL with
NORMAL would survive a process crash only.) WAL also lets one process read while another writes,
which is how a producer and a consumer share the spool; write transactions take the write lock up
front (``BEGIN IMMEDIATE``) and wait up to ``BUSY_TIMEOUT`` seconds for it.

Recognition: a spool file carries ``APPLICATION_ID`` and its schema version in ``user_version``.
On open the file is integrity-checked (``PRAGMA quick_check``); random bytes, a truncated file or a
foreign SQLite file raise `SpoolCorrupt` naming the file. Recovery is to move it aside
(`move_aside`, or ``mv``) and open a new spool at the same path: the bad file is kept for
inspection, never deleted by rampart.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from rampart.durable import fsync_directory
from rampart.errors import SpoolCorrupt, SpoolError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x5253504C  # "RSPL"
BUSY_TIMEOUT = 30.0
RECOVERY = "move it aside (e.g. add .corrupt to its name) and start a new spool at the same path"

SCHEMA = (
    """CREATE TABLE items (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        size INTEGER NOT NULL,
        created REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        leased_until REAL NOT NULL DEFAULT 0,
        payload BLOB NOT NULL
    )""",
    "CREATE INDEX items_size ON items (size)",
    "CREATE INDEX items_created ON items (created)",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating when absent) the spool at ``path``, checked and ready; errors name the file."""
    _create_private(path)
    with translate(path):
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        with translate(path):
            _check_integrity(conn, path)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            _ensure_schema(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def translate(path: Path) -> Iterator[None]:
    """Turn SQLite errors into `SpoolCorrupt` (damaged file) or `SpoolError` (locked, I/O, duplicate id)."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise SpoolError(f"spool file {path} refused a write: {error}") from error
    except sqlite3.OperationalError as error:
        raise SpoolError(f"spool file {path} cannot be used: {error}") from error
    except sqlite3.DatabaseError as error:
        raise corrupt(path, str(error)) from error


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic, durable write: the write lock is taken first, committed (fsynced) on success."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def corrupt(path: Path, reason: str) -> SpoolCorrupt:
    """The one error for a damaged or foreign spool file, saying how to recover."""
    return SpoolCorrupt(f"spool file {path} is unreadable ({reason}); {RECOVERY}")


def move_aside(path: Path, suffix: str) -> Path:
    """Rename a bad spool (and its ``-wal``/``-shm`` companions) to ``<name>.<suffix>``; nothing is deleted."""
    target = path.with_name(f"{path.name}.{suffix}")
    if target.exists():
        raise SpoolError(f"cannot move spool {path} aside: {target} already exists")
    for companion in ("-wal", "-shm"):
        side = path.with_name(path.name + companion)
        if side.exists():
            side.rename(target.with_name(target.name + companion))
    path.rename(target)
    return target


def _create_private(path: Path) -> None:
    """Create the parent directory and an empty file readable only by its owner, if absent."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        if path.is_file():
            return
        raise SpoolError(f"cannot create spool file {path}: {error.strerror or error}") from error
    os.close(fd)
    fsync_directory(path.parent)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    if rows != [("ok",)]:
        raise corrupt(path, "; ".join(str(row[0]) for row in rows[:3]))


def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables in an empty file; otherwise check that this is a spool rampart can read."""
    with write_transaction(conn):
        app_id, version = _identity(conn)
        if app_id == 0 and version == 0 and not _has_tables(conn):
            for statement in SCHEMA:
                conn.execute(statement)
        else:
            _check_identity(path, app_id, version)


def _identity(conn: sqlite3.Connection) -> tuple[int, int]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return int(app_id), int(version)


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None


def _check_identity(path: Path, app_id: int, version: int) -> None:
    if app_id != APPLICATION_ID:
        raise corrupt(path, "not a rampart spool")
    if version > SCHEMA_VERSION:
        raise SpoolError(
            f"spool file {path} has schema {version}, newer than this rampart reads ({SCHEMA_VERSION})"
        )
    if version < 1:
        raise corrupt(path, f"unknown spool schema {version}")
