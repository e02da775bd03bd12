"""Offers the shared builders in tests/fixtures (importable through pytest's ``pythonpath``) as fixtures."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from fixtures import elf, rootfs


@pytest.fixture(scope="session")
def rootfs_lib() -> ModuleType:
    return rootfs


@pytest.fixture(scope="session")
def elf_lib() -> ModuleType:
    return elf


@pytest.fixture
def debian11_root(tmp_path: Path) -> Path:
    """A fresh miniature Debian 11 root filesystem (see tests/fixtures/rootfs.py)."""
    root = tmp_path / "rootfs"
    rootfs.build_debian11_rootfs(root)
    return root
