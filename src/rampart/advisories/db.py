"""The read side of the advisory database: `AdvisoryDB`, the `AdvisorySource` a scan matches against.

Opened read-only; a lookup is one indexed query on (ecosystem, normalised name) followed by
decoding compact records (see `codec`), each decoded at most once per reader.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from rampart.advisories import codec, schema
from rampart.advisories.schema import SourceMeta
from rampart.errors import DatabaseError
from rampart.match.names import normalize_ecosystem, normalize_name
from rampart.model import Advisory, DatabaseInfo

T = TypeVar("T")

_LOOKUP = (
    "SELECT a.id, a.body FROM packages p JOIN advisories a ON a.id = p.advisory_id "
    "WHERE p.ecosystem = ? AND p.name = ? ORDER BY a.id"
)


@dataclass(frozen=True)
class DatabaseStatus:
    """Everything ``db status`` shows."""

    info: DatabaseInfo
    size_bytes: int
    total: int
    withdrawn: int
    sources: tuple[SourceMeta, ...]


class AdvisoryDB:
    """A read-only advisory database file."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._advisories: dict[str, Advisory] = {}
        self._lookups: dict[tuple[str, str], tuple[Advisory, ...]] = {}
        self._meta = self._query(lambda: schema.read_meta(conn))

    @classmethod
    def open(cls, path: Path) -> AdvisoryDB:
        """Open ``path``; `DatabaseMissing` when absent, `DatabaseError` when unreadable or foreign."""
        return cls(schema.connect_readonly(path), path)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def advisories_for(self, ecosystem: str, name: str) -> Sequence[Advisory]:
        """Advisories with an ``affected`` entry for this package (PyPI names compared PEP 503-normalised)."""
        key = (normalize_ecosystem(ecosystem), normalize_name(ecosystem, name))
        found = self._lookups.get(key)
        if found is None:
            rows = self._query(lambda: self._conn.execute(_LOOKUP, key).fetchall())
            found = self._lookups[key] = tuple(self._decode(rid, body) for rid, body in rows)
        return found

    def covers(self, ecosystem: str) -> bool:
        """Whether any advisory names a package of this exact ecosystem (``Debian:12``, ``PyPI``)."""
        sql = "SELECT 1 FROM packages WHERE ecosystem = ? LIMIT 1"
        key = (normalize_ecosystem(ecosystem),)
        return self._query(lambda: self._conn.execute(sql, key).fetchone()) is not None

    def get(self, advisory_id: str) -> Advisory | None:
        """One advisory by id, or None."""
        sql = "SELECT id, body FROM advisories WHERE id = ?"
        row = self._query(lambda: self._conn.execute(sql, (advisory_id,)).fetchone())
        return None if row is None else self._decode(*row)

    def info(self) -> DatabaseInfo:
        """Path, build time, schema version, counts per ecosystem family and sources."""
        built = self._meta.get("built_at")
        sources = self._query(lambda: schema.read_sources(self._conn))
        return DatabaseInfo(
            path=str(self.path),
            built_at=datetime.fromisoformat(built) if built else None,
            schema_version=int(self._meta.get("schema_version", schema.SCHEMA_VERSION)),
            counts=json.loads(self._meta.get("counts", "{}")),
            sources=tuple(m.location for m in sources.values()),
        )

    def status(self) -> DatabaseStatus:
        """`info` plus file size, totals and the per-source metadata."""
        sources = self._query(lambda: schema.read_sources(self._conn))
        return DatabaseStatus(
            info=self.info(),
            size_bytes=self.path.stat().st_size,
            total=int(self._meta.get("total", "0")),
            withdrawn=int(self._meta.get("withdrawn", "0")),
            sources=tuple(sources.values()),
        )

    def _decode(self, advisory_id: str, body: str) -> Advisory:
        advisory = self._advisories.get(advisory_id)
        if advisory is None:
            advisory = self._advisories[advisory_id] = codec.decode(body)
        return advisory

    def _query(self, run: Callable[[], T]) -> T:
        try:
            return run()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(
                f"advisory database {self.path} is corrupt ({error}); {schema.HINT}"
            ) from None
