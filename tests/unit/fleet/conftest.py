"""Fleet-test helpers: small advisory databases built from real Debian records, hosts and inventories."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from rampart.advisories.db import AdvisoryDB
from rampart.advisories.importer import import_paths
from rampart.store import hosts as host_store
from rampart.store.engine import write_session

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEBIAN_IDS = ("DSA-5343-1", "DSA-5321-1", "DSA-5380-1", "DSA-5365-1", "DSA-5342-1")


@pytest.fixture(scope="session")
def debian_records(vulndata_dir: Path) -> dict[str, bytes]:
    """The real Debian OSV records the fleet tests use, by id."""
    with zipfile.ZipFile(vulndata_dir / "osv" / "Debian" / "all.zip") as archive:
        return {i: archive.read(f"{i}.json") for i in DEBIAN_IDS}


@pytest.fixture(scope="session")
def advisory_db(
    debian_records: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., AdvisoryDB]]:
    """``advisory_db(*ids)``: an open AdvisoryDB holding exactly these real records (imported like ``db import``)."""
    opened: list[AdvisoryDB] = []

    def make(*ids: str) -> AdvisoryDB:
        folder = tmp_path_factory.mktemp("osv")
        for advisory_id in ids:
            (folder / f"{advisory_id}.json").write_bytes(debian_records[advisory_id])
        path = folder.parent / f"{folder.name}.sqlite3"
        import_paths(path, [folder], now=T0)
        opened.append(AdvisoryDB.open(path))
        return opened[-1]

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def add_host(store_sessions: sessionmaker[Session]) -> Callable[..., str]:
    """``add_host(hostname, **tags)`` -> host id of a newly enrolled host."""

    def make(hostname: str, **tags: str) -> str:
        host_id = "h-" + uuid.uuid4().hex[:16]
        with write_session(store_sessions) as session:
            host_store.add_host(
                session,
                host_id=host_id,
                hostname=hostname,
                os_id="debian",
                os_version="11",
                os_pretty="",
                agent_version="0.1.0",
                tags=tags,
                enrolled_at=T0,
                public_key_pem="-",
                cert_serial=uuid.uuid4().hex,
                cert_expires_at=T0,
            )
        return host_id

    return make
