"""The Poetry lock extractor: every ``[[package]]`` of a ``poetry.lock`` found anywhere in the tree.

The file is TOML (read with ``tomllib``, up to ``MAX_SIZE``). Each package table needs a ``name`` and a
``version``; a table without them, or with values that are not sane strings, is a per-entry error and
the other packages are still used. Packages whose ``source.type`` is ``directory`` (a local project,
not a PyPI release) are skipped. The model has no field for dependency groups, so ``category``/``groups``
are read past. Names are PEP 503 normalised; ecosystem ``PyPI``.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from rampart.errors import ParseError
from rampart.inventory.base import ExtractContext
from rampart.inventory.python import normalize_name
from rampart.model import Package
from rampart.target.base import FileInfo, Target

MAX_SIZE = 32 * 1024 * 1024
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]{0,200}[A-Z0-9])\Z", re.IGNORECASE)
_VERSION = re.compile(r"^[A-Za-z0-9.+!_-]{1,128}\Z")


def load_lock(data: bytes) -> list[Any]:
    """The ``package`` array of a poetry.lock; ParseError when it is not TOML or has none."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ParseError("poetry.lock is not valid UTF-8") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ParseError(f"poetry.lock is not valid TOML: {exc}") from None
    packages = document.get("package", [])
    if not isinstance(packages, list):
        raise ParseError("poetry.lock 'package' is not an array of tables")
    return packages


def _package(entry: Any, location: str) -> Package | None:
    if not isinstance(entry, dict):
        raise ParseError("is not a table")
    name, version = entry.get("name"), entry.get("version")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParseError("has no valid name")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ParseError(f"{name}: has no valid version")
    source = entry.get("source")
    if isinstance(source, dict) and source.get("type") == "directory":
        return None
    return Package(normalize_name(name), version, "PyPI", location, PoetryLockExtractor.name)


class PoetryLockExtractor:
    """Reads the locked packages of a Poetry project."""

    name = "poetry"
    directory_pattern = r".*"
    name_pattern = r"poetry\.lock"

    def wants(self, info: FileInfo) -> bool:
        return info.path.rpartition("/")[2] == "poetry.lock"

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        found: list[Package] = []
        for index, entry in enumerate(load_lock(target.read_bytes(info.path, MAX_SIZE))):
            try:
                package = _package(entry, "/" + info.path)
            except ParseError as exc:
                context.add_error(info.path, f"{self.name}: package #{index + 1} {exc.message}")
                continue
            if package is not None:
                found.append(package)
        return found
