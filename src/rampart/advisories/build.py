"""Building a new database file beside the current one and swapping it in atomically.

A `Builder` streams advisories into staging tables of a temporary file in the database's directory
(keeping the newest ``modified`` per id, so memory stays flat however large the input), then moves
them into the real tables in one transaction, copies the rows it keeps from the current database,
builds the indexes last, and replaces the current file with ``os.replace``. Until that last step the current database is untouched, so a
failure, Ctrl-C or kill at any point leaves it working; the temporary file is removed on failure
(or, after a kill, by the next build once it is an hour old).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from rampart.advisories import codec, schema
from rampart.advisories.schema import SourceMeta
from rampart.durable import fsync_directory
from rampart.errors import DatabaseError
from rampart.match.names import normalize_ecosystem, normalize_name
from rampart.model import Advisory, DatabaseInfo

TEMP_PREFIX = ".advisories-"
TEMP_SUFFIX = ".building"
STALE_SECONDS = 3600

_COUNTS_SQL = """
SELECT CASE WHEN instr(ecosystem, ':') > 0 THEN substr(ecosystem, 1, instr(ecosystem, ':') - 1)
            ELSE ecosystem END AS family,
       COUNT(DISTINCT advisory_id)
FROM packages GROUP BY family ORDER BY family
"""


_STAGING = """
CREATE TEMP TABLE staging (
    id TEXT PRIMARY KEY, sort_key REAL NOT NULL, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL,
    source TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TEMP TABLE staging_packages (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL);
CREATE INDEX temp.staging_packages_id ON staging_packages (advisory_id);
"""
_STAGE = "INSERT OR IGNORE INTO staging VALUES (?, ?, ?, ?, ?, ?)"
_RESTAGE = (
    "UPDATE staging SET sort_key = ?2, modified = ?3, withdrawn = ?4, source = ?5, body = ?6 "
    "WHERE id = ?1 AND sort_key <= ?2"
)
_UNSTAGE_PACKAGES = "DELETE FROM staging_packages WHERE advisory_id = ?"
_STAGE_PACKAGES = "INSERT INTO staging_packages VALUES (?, ?, ?)"
_PUBLISH = (
    "INSERT INTO advisories SELECT id, modified, withdrawn, source, body FROM staging",
    "INSERT INTO packages SELECT DISTINCT ecosystem, name, advisory_id FROM staging_packages",
)

_RECOUNT_SOURCES = (
    "UPDATE sources SET records = (SELECT COUNT(*) FROM advisories a WHERE a.source = sources.key)"
)

# Old rows are kept when their source is not being replaced and their id is not new.
_COPY_OLD = (
    """INSERT INTO main.packages SELECT p.ecosystem, p.name, p.advisory_id
       FROM old.packages p JOIN old.advisories a ON a.id = p.advisory_id
       WHERE a.source NOT IN (SELECT key FROM dropped) AND a.id NOT IN (SELECT id FROM main.advisories)""",
    """INSERT INTO main.advisories SELECT a.* FROM old.advisories a
       WHERE a.source NOT IN (SELECT key FROM dropped) AND a.id NOT IN (SELECT id FROM main.advisories)""",
    "INSERT INTO main.sources SELECT * FROM old.sources "
    "WHERE key NOT IN (SELECT key FROM main.sources) AND key NOT IN (SELECT key FROM dropped)",
)


def modified_key(text: str) -> float:
    """Seconds since the epoch of an OSV ``modified`` stamp; unparseable stamps sort oldest."""
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return float("-inf")
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _package_rows(advisory: Advisory) -> set[tuple[str, str, str]]:
    """The lookup rows of one advisory: (ecosystem, normalised name, id) per affected package."""
    return {
        (normalize_ecosystem(entry.ecosystem), normalize_name(entry.ecosystem, entry.name), advisory.id)
        for entry in advisory.affected
    }


class Builder:
    """One new database file under construction; use as a context manager."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
        os.close(fd)
        self.temp = Path(name)
        self._sources: dict[str, SourceMeta] = {}
        self.conn = sqlite3.connect(f"file:{quote(str(self.temp))}", uri=True, isolation_level=None)
        self.conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
            + schema.TABLES
            + _STAGING
        )
        self.conn.execute("BEGIN")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None or self.temp.exists():
            self.abort()

    def add(self, advisory: Advisory, source: str) -> bool:
        """Take one advisory; False when its id was already taken (the newer ``modified`` wins)."""
        row = (
            advisory.id,
            modified_key(advisory.modified),
            advisory.modified,
            advisory.withdrawn is not None,
            source,
            codec.encode(advisory),
        )
        is_new = self.conn.execute(_STAGE, row).rowcount == 1
        if not is_new:
            if self.conn.execute(_RESTAGE, row).rowcount == 0:
                return False  # the staged record is newer
            self.conn.execute(_UNSTAGE_PACKAGES, (advisory.id,))
        self.conn.executemany(_STAGE_PACKAGES, _package_rows(advisory))
        return is_new

    def pending_counts(self) -> tuple[int, int]:
        """How many distinct ids were taken so far, and how many of them are withdrawn."""
        total, withdrawn = self.conn.execute("SELECT COUNT(*), SUM(withdrawn) FROM staging").fetchone()
        return total, withdrawn or 0

    def set_source(self, meta: SourceMeta) -> None:
        self._sources[meta.key] = meta

    def finish(self, now: datetime, keep_from: Path | None, drop_sources: set[str]) -> DatabaseInfo:
        """Write everything, keep the current database's other rows, and swap the file in."""
        try:
            self._write_pending()
            if keep_from is not None:
                self._copy_old(keep_from, drop_sources)
            self.conn.executescript(schema.INDEXES)
            info = self._write_meta(now)
        except sqlite3.Error as error:
            raise DatabaseError(f"could not write the advisory database: {error}") from None
        self.conn.close()
        self._swap()
        return info

    def abort(self) -> None:
        """Throw the unfinished file away."""
        self.conn.close()
        self.temp.unlink(missing_ok=True)

    def _write_pending(self) -> None:
        for statement in _PUBLISH:
            self.conn.execute(statement)
        self.conn.execute("DROP TABLE staging")
        self.conn.execute("DROP TABLE staging_packages")
        self.conn.executemany(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (m.key, m.location, m.etag, m.last_modified, m.sha256, m.size, m.fetched_at, m.records)
                for m in self._sources.values()
            ),
        )
        self.conn.execute("COMMIT")

    def _copy_old(self, old: Path, drop_sources: set[str]) -> None:
        """Copy the current database's rows whose id is not new and whose source is not replaced."""
        self.conn.execute("ATTACH DATABASE ? AS old", (f"file:{quote(str(old))}?mode=ro",))
        self.conn.execute("CREATE TEMP TABLE dropped (key TEXT PRIMARY KEY)")
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO dropped VALUES (?)", ((k,) for k in drop_sources))
        for statement in _COPY_OLD:
            self.conn.execute(statement)
        self.conn.execute("COMMIT")
        self.conn.execute("DETACH DATABASE old")

    def _write_meta(self, now: datetime) -> DatabaseInfo:
        self.conn.execute("BEGIN")
        self.conn.execute(_RECOUNT_SOURCES)
        self.conn.execute("DELETE FROM sources WHERE records = 0")
        counts = dict(self.conn.execute(_COUNTS_SQL).fetchall())
        total, withdrawn = self.conn.execute("SELECT COUNT(*), SUM(withdrawn) FROM advisories").fetchone()
        sources = tuple(row[0] for row in self.conn.execute("SELECT location FROM sources ORDER BY key"))
        meta = {
            "schema_version": str(schema.SCHEMA_VERSION),
            "built_at": now.astimezone(UTC).isoformat(),
            "counts": json.dumps(counts),
            "total": str(total),
            "withdrawn": str(withdrawn or 0),
        }
        self.conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self.conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
        self.conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
        self.conn.execute("COMMIT")
        return DatabaseInfo(str(self.target), now, schema.SCHEMA_VERSION, counts, sources)

    def _swap(self) -> None:
        fd = os.open(self.temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.temp.replace(self.target)
        fsync_directory(self.target.parent)


def remove_stale_temporaries(folder: Path, now: float | None = None) -> None:
    """Delete half-built files left by a killed build, once they are clearly abandoned."""
    cutoff = (time.time() if now is None else now) - STALE_SECONDS
    for path in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
