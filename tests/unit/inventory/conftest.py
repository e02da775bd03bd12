"""Loads the shared builders in tests/fixtures (not an importable package) and offers them as fixtures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load_fixture_module(name: str) -> ModuleType:
    """tests/fixtures/<name>.py as a module (loaded once per session)."""
    key = f"rampart_tests_fixtures_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, FIXTURES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="session")
def rootfs_lib() -> ModuleType:
    return load_fixture_module("rootfs")


@pytest.fixture(scope="session")
def elf_lib() -> ModuleType:
    return load_fixture_module("elf")


@pytest.fixture
def debian11_root(tmp_path: Path, rootfs_lib: ModuleType) -> Path:
    """A fresh miniature Debian 11 root filesystem (see tests/fixtures/rootfs.py)."""
    root = tmp_path / "rootfs"
    rootfs_lib.build_debian11_rootfs(root)
    return root
