"""Building, reading and replacing the database: dedup, lookups, schema checks, failure safety."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rampart.advisories import importer
from rampart.advisories.build import TEMP_PREFIX, TEMP_SUFFIX, remove_stale_temporaries
from rampart.advisories.db import AdvisoryDB
from rampart.advisories.freshness import staleness_warning
from rampart.advisories.importer import import_paths
from rampart.advisories.inputs import RawRecord
from rampart.errors import DatabaseError, DatabaseMissing
from rampart.model import DatabaseInfo

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def osv(
    record_id: str, name: str = "Foo_Bar", modified: str = "2024-01-01T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    return {
        "id": record_id,
        "modified": modified,
        "affected": [{"package": {"ecosystem": extra.pop("ecosystem", "PyPI"), "name": name}}],
        **extra,
    }


def write(path: Path, *records: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(records) == 1:
        path.write_text(json.dumps(records[0]))
    else:
        for i, data in enumerate(records):
            (path / f"{i}.json").parent.mkdir(parents=True, exist_ok=True)
            (path / f"{i}.json").write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "advisories.sqlite3"


def test_lookup_normalises_pypi_names(db_path: Path, tmp_path: Path) -> None:
    import_paths(db_path, [write(tmp_path / "a.json", osv("PYSEC-1", "Foo_Bar"))], now=NOW)
    with AdvisoryDB.open(db_path) as db:
        for query in ("foo-bar", "FOO.BAR", "foo__bar", "Foo_Bar"):
            assert [a.id for a in db.advisories_for("PyPI", query)] == ["PYSEC-1"]
        assert db.advisories_for("PyPI", "foobar") == ()


def test_other_ecosystems_compare_exactly_and_ubuntu_lts_is_folded(db_path: Path, tmp_path: Path) -> None:
    records = write(
        tmp_path / "recs",
        osv("GO-1", "github.com/A/b", ecosystem="Go"),
        osv("USN-1", "openssl", ecosystem="Ubuntu:22.04:LTS"),
    )
    import_paths(db_path, [records], now=NOW)
    with AdvisoryDB.open(db_path) as db:
        assert [a.id for a in db.advisories_for("Go", "github.com/A/b")] == ["GO-1"]
        assert db.advisories_for("Go", "github.com/a/b") == ()
        assert [a.id for a in db.advisories_for("Ubuntu:22.04", "openssl")] == ["USN-1"]


def test_covers_names_exact_ecosystems(db_path: Path, tmp_path: Path) -> None:
    records = write(
        tmp_path / "recs",
        osv("DSA-1", "openssl", ecosystem="Debian:11"),
        osv("USN-1", "openssl", ecosystem="Ubuntu:22.04:LTS"),
    )
    import_paths(db_path, [records], now=NOW)
    with AdvisoryDB.open(db_path) as db:
        assert db.covers("Debian:11") and db.covers("Ubuntu:22.04")
        assert not db.covers("Debian:12") and not db.covers("Debian") and not db.covers("npm")
        assert db.info().counts == {"Debian": 1, "Ubuntu": 1}


def test_duplicate_ids_keep_the_newest_and_are_counted(db_path: Path, tmp_path: Path) -> None:
    records = write(
        tmp_path / "recs",
        osv("X-1", summary="old", modified="2024-01-01T00:00:00Z"),
        osv("X-1", summary="newest", modified="2024-03-01T00:00:00+00:00"),
        osv("X-1", summary="middle", modified="2024-02-01T00:00:00Z"),
    )
    report = import_paths(db_path, [records], now=NOW)
    assert (report.stats.records, report.stats.duplicates) == (1, 2)
    with AdvisoryDB.open(db_path) as db:
        assert db.advisories_for("PyPI", "foo-bar")[0].summary == "newest"


def test_malformed_records_are_counted_per_reason(db_path: Path, tmp_path: Path) -> None:
    records = write(
        tmp_path / "recs",
        osv("OK-1"),
        "{not json",
        "[1, 2]",
        json.dumps({"modified": "2024-01-01T00:00:00Z"}),
        json.dumps(osv("BAD-1", aliases="CVE-1")),
    )
    report = import_paths(db_path, [records], now=NOW)
    assert report.stats.records == 1
    assert dict(report.stats.skipped) == {
        "not JSON": 1,
        "not an object": 1,
        "missing id": 1,
        "wrong types": 1,
    }
    assert report.stats.summary() == (
        "imported 1 records from 1 source; skipped 4 malformed (1 missing id, 1 not JSON, 1 not an object, 1 wrong types)"
    )


def test_import_adds_to_and_overwrites_the_current_database(db_path: Path, tmp_path: Path) -> None:
    import_paths(db_path, [write(tmp_path / "one", osv("A-1", summary="first"), osv("B-1"))], now=NOW)
    import_paths(
        db_path, [write(tmp_path / "two", osv("A-1", summary="second", name="other"), osv("C-1"))], now=NOW
    )
    with AdvisoryDB.open(db_path) as db:
        assert db.status().total == 3
        assert [a.id for a in db.advisories_for("PyPI", "foo-bar")] == ["B-1", "C-1"]
        assert [a.summary for a in db.advisories_for("PyPI", "other")] == ["second"]


def test_missing_database_has_a_hint(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing, match=r"run `rampart db update` or `rampart db import`"):
        AdvisoryDB.open(tmp_path / "nope.sqlite3")


def test_corrupt_file_is_a_database_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not an sqlite file at all" * 100)
    with pytest.raises(DatabaseError, match=r"is corrupt .*file is not a database.*rampart db update"):
        AdvisoryDB.open(db_path)


def test_truncated_database_is_a_database_error(db_path: Path, tmp_path: Path, vulndata_dir: Path) -> None:
    import_paths(db_path, [vulndata_dir / "osv" / "Go" / "all.zip"], now=NOW)
    db_path.write_bytes(db_path.read_bytes()[: 64 * 1024])
    with pytest.raises(DatabaseError, match="corrupt"), AdvisoryDB.open(db_path) as db:
        db.advisories_for("Go", "stdlib")


def test_foreign_sqlite_file_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DatabaseError, match="not a rampart advisory database"):
        AdvisoryDB.open(db_path)


@pytest.mark.parametrize(
    ("version", "message"), [(99, "newer than this rampart"), (0, "old schema version 0")]
)
def test_schema_version_mismatch(db_path: Path, tmp_path: Path, version: int, message: str) -> None:
    import_paths(db_path, [write(tmp_path / "a.json", osv("A-1"))], now=NOW)
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    with pytest.raises(DatabaseError, match=message):
        AdvisoryDB.open(db_path)


def test_info_and_status(db_path: Path, tmp_path: Path) -> None:
    source = write(
        tmp_path / "recs", osv("A-1"), osv("D-1", "tiff", ecosystem="Debian:11", withdrawn="2024-05-01")
    )
    import_paths(db_path, [source], now=NOW)
    with AdvisoryDB.open(db_path) as db:
        info, status = db.info(), db.status()
    assert info.built_at == NOW
    assert info.counts == {"Debian": 1, "PyPI": 1}
    assert info.sources == (str(source.resolve()),)
    assert (status.total, status.withdrawn, status.size_bytes) == (2, 1, db_path.stat().st_size)


def test_real_pypi_zip_counts(db_path: Path, vulndata_dir: Path) -> None:
    report = import_paths(db_path, [vulndata_dir / "osv" / "PyPI" / "all.zip"], now=NOW)
    assert (report.stats.records, report.stats.withdrawn, report.stats.duplicates) == (7080, 269, 0)
    assert not report.stats.skipped
    with AdvisoryDB.open(db_path) as db:
        assert db.info().counts == {"PyPI": 7080}
        django = db.advisories_for("PyPI", "Django")
        assert len(django) > 100
        assert all(any(a.name.lower() == "django" for a in adv.affected) for adv in django)


def test_many_lookups_answer_from_the_whole_data(db_path: Path, vulndata_dir: Path) -> None:
    """Lookups for every kind of name, and misses (their speed: benchmarks/matcher.py)."""
    import_paths(db_path, [vulndata_dir / "osv"], now=NOW)
    conn = sqlite3.connect(db_path)
    keys = conn.execute("SELECT DISTINCT ecosystem, name FROM packages ORDER BY name LIMIT 1500").fetchall()
    conn.close()
    keys += [("Debian:11", f"absent-{i}") for i in range(500)]
    with AdvisoryDB.open(db_path) as db:
        found = [len(db.advisories_for(e, n)) for e, n in keys]
    assert all(found[:1500]) and sum(found) > 1500
    assert not any(found[1500:])


def test_interrupted_import_leaves_the_old_database(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_paths(db_path, [write(tmp_path / "a.json", osv("A-1"))], now=NOW)
    before = db_path.read_bytes()

    def interrupted(paths: object, limits: object) -> Iterator[RawRecord]:
        yield RawRecord("x", json.dumps(osv("B-1")).encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(importer, "iter_records", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_paths(db_path, [write(tmp_path / "b.json", osv("B-1"))], now=NOW)
    assert db_path.read_bytes() == before
    assert [p.name for p in db_path.parent.iterdir()] == [db_path.name]
    with AdvisoryDB.open(db_path) as db:
        assert [a.id for a in db.advisories_for("PyPI", "foo-bar")] == ["A-1"]


def test_stale_temporaries_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    old, fresh = tmp_path / f"{TEMP_PREFIX}old{TEMP_SUFFIX}", tmp_path / f"{TEMP_PREFIX}new{TEMP_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    remove_stale_temporaries(tmp_path)
    assert (old.exists(), fresh.exists()) == (False, True)


def test_staleness_warning() -> None:
    info = DatabaseInfo(path="db", built_at=NOW, schema_version=1)
    assert staleness_warning(info, timedelta(days=7), NOW + timedelta(days=6)) is None
    warning = staleness_warning(info, timedelta(days=7), NOW + timedelta(days=9, hours=1))
    assert warning == "the advisory database is 9 days old (built 2025-01-01); run `rampart db update`"
    undated = DatabaseInfo(path="db", built_at=None, schema_version=1)
    assert staleness_warning(undated, now=NOW) is not None
