"""The advisory database file: its tables, schema version, and how it is opened and checked.

The database is a read-mostly cache file that one process rebuilds and many read, so it is a
plain SQLite file through the stdlib ``sqlite3`` module: no server, no ORM, one file that can be
swapped atomically with ``os.replace``. A rampart database is recognised by its
``application_id``; ``user_version`` holds the schema version, mirrored in the ``meta`` table.

Tables: ``meta`` (key/value: schema_version, built_at, counts, totals), ``sources`` (one row per
download or import source, with ETag/Last-Modified/sha256 for conditional requests),
``advisories`` (one compact record per id, see `codec`) and ``packages`` (the lookup index:
ecosystem, normalised name -> advisory id).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rampart.errors import DatabaseError, DatabaseMissing

SCHEMA_VERSION = 1
APPLICATION_ID = 0x52414D50  # "RAMP"
HINT = "run `rampart db update` or `rampart db import`"

TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    key TEXT PRIMARY KEY, location TEXT NOT NULL, etag TEXT, last_modified TEXT,
    sha256 TEXT, size INTEGER, fetched_at TEXT NOT NULL, records INTEGER NOT NULL
);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL,
    source TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE packages (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL);
"""

INDEXES = """
CREATE INDEX packages_lookup ON packages (ecosystem, name);
CREATE INDEX advisories_source ON advisories (source);
"""


@dataclass(frozen=True)
class SourceMeta:
    """Where one part of the database came from, and what a conditional request needs next time."""

    key: str
    location: str
    fetched_at: str
    records: int
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    size: int | None = None


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing database read-only and check that rampart can read its schema."""
    if not path.is_file():
        raise DatabaseMissing(f"no advisory database at {path}; {HINT}")
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False)
    try:
        check_schema(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Raise `DatabaseError` unless ``conn`` is a rampart database of this schema version."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"advisory database {path} is corrupt ({error}); {HINT}") from None
    if app_id != APPLICATION_ID:
        raise DatabaseError(f"{path} is not a rampart advisory database; {HINT}")
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"advisory database {path} has schema version {version}, newer than this rampart "
            f"understands ({SCHEMA_VERSION}); upgrade rampart or {HINT}"
        )
    if version < SCHEMA_VERSION:
        raise DatabaseError(f"advisory database {path} has old schema version {version}; {HINT}")


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def read_sources(conn: sqlite3.Connection) -> dict[str, SourceMeta]:
    """The ``sources`` table, keyed by source key."""
    columns = "key, location, fetched_at, records, etag, last_modified, sha256, size"
    rows = conn.execute(f"SELECT {columns} FROM sources ORDER BY key").fetchall()  # noqa: S608 - constant
    return {row[0]: SourceMeta(*row) for row in rows}


def previous_sources(path: Path) -> dict[str, SourceMeta]:
    """The sources of the current database, or nothing when it is absent or unreadable."""
    try:
        conn = connect_readonly(path)
    except DatabaseError:
        return {}
    try:
        return read_sources(conn)
    except sqlite3.DatabaseError:
        return {}
    finally:
        conn.close()
