"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.cli import rampart


@pytest.fixture(scope="module")
def debian_advisories(vulndata_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An advisory database file built from the real Debian OSV export."""
    cache = tmp_path_factory.mktemp("advisories")
    done = rampart("db", "import", vulndata_dir / "osv" / "Debian" / "all.zip", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    return cache / "advisories.sqlite3"
