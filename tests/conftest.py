"""Fixtures shared by the whole suite: where the real advisory data lives, and a private cache dir."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fixtures import databases, elf, rootfs

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def vulndata_path() -> Path:
    """``$RAMPART_VULNDATA`` or ``../shared/vulndata`` beside the project root."""
    return Path(os.environ.get("RAMPART_VULNDATA", PROJECT_ROOT.parent / "shared" / "vulndata")).resolve()


@pytest.fixture(scope="session")
def vulndata_dir() -> Path:
    """The shared real advisory data; skips (with the reason) only where the folder is genuinely absent."""
    path = vulndata_path()
    if not (path / "osv").is_dir():
        pytest.skip(f"real advisory data not found at {path}")
    return path


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty rampart cache directory, also exported as RAMPART_CACHE_DIR."""
    path = tmp_path / "cache"
    path.mkdir()
    monkeypatch.setenv("RAMPART_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def rootfs_lib() -> ModuleType:
    """The miniature root filesystem builders (tests/fixtures/rootfs.py)."""
    return rootfs


@pytest.fixture(scope="session")
def elf_lib() -> ModuleType:
    """The synthetic ELF builders (tests/fixtures/elf.py)."""
    return elf


@pytest.fixture
def debian11_root(tmp_path: Path) -> Path:
    """A fresh miniature Debian 11 root filesystem (see tests/fixtures/rootfs.py)."""
    root = tmp_path / "rootfs"
    rootfs.build_debian11_rootfs(root)
    return root


@pytest.fixture(params=databases.KINDS, ids=list(databases.KINDS))
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for this test, once on SQLite and once on PostgreSQL (dropped afterwards)."""
    url = databases.fresh_database_url(request.param, tmp_path)
    yield url
    databases.drop_database_url(url)


@pytest.fixture(scope="session")
def fresh_database_url() -> Iterator[Callable[[str], str]]:
    """``fresh_database_url(kind)``: a new empty database URL; every one is dropped at the end of the session."""
    made: list[str] = []

    def make(kind: str) -> str:
        made.append(databases.fresh_database_url(kind))
        return made[-1]

    yield make
    for url in made:
        databases.drop_database_url(url)


@pytest.fixture
def store_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh `database_url`, migrated to the newest schema."""
    from rampart.store.engine import make_engine, migrate

    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store_sessions(store_engine: Engine) -> sessionmaker[Session]:
    """Sessions on the migrated test database."""
    from rampart.store.engine import session_factory

    return session_factory(store_engine)
