"""The npm lockfile extractor: locked packages of ``package-lock.json`` / ``npm-shrinkwrap.json`` files.

``lockfileVersion`` 2 and 3 are read from the ``packages`` map: every key holding ``node_modules/`` is an
installed path (``node_modules/@scope/a/node_modules/b``), named by its last ``node_modules/`` segment or
by the entry's own ``name`` (aliases); the root (``""``), workspace folders and ``link`` entries are
skipped. Version 1 is read from the nested ``dependencies`` tree (``npm:real@1.0.0`` aliases resolved).
Entries whose version is not a registry version (git, file, URL) report nothing; an entry with an
invalid name is a per-entry error and the rest of the lockfile is used. Another or missing
``lockfileVersion`` is a per-file error. Ecosystem ``npm``; the location is the lockfile itself, so these
never collide with the installed ``node_modules/*/package.json`` packages of the npm extractor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory.base import ExtractContext
from rampart.model import Package
from rampart.target.base import FileInfo, Target

MAX_SIZE = 64 * 1024 * 1024
MAX_DEPTH = 256
_FILES = ("package-lock.json", "npm-shrinkwrap.json")
_NAME = re.compile(r"^(?=.{1,214}$)(?:@[a-z0-9][\w.~-]*/)?[a-z0-9_.~-][\w.~-]*\Z", re.IGNORECASE | re.ASCII)
_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+_-]{0,255}\Z")
_ALIAS = re.compile(r"^npm:(.+)@([^@]+)\Z")


def load_lock(data: bytes) -> dict[str, Any]:
    """The lockfile as a JSON object; ParseError for anything else."""
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ParseError("package-lock.json is not valid UTF-8") from None
    except RecursionError:
        raise ParseError("package-lock.json is nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"package-lock.json is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ParseError("package-lock.json is not a JSON object")
    return document


def _mapping(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ParseError(f"package-lock.json {key!r} is not an object")
    return value


def packages_entries(packages: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(key, name, version) of each installed path of a v2/v3 ``packages`` map."""
    for key, entry in packages.items():
        if "node_modules/" not in key or not isinstance(entry, dict) or entry.get("link"):
            continue
        name = entry.get("name") or key.rpartition("node_modules/")[2]
        yield key, name, entry.get("version")


def dependencies_entries(dependencies: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(path, name, version) of each entry of a v1 ``dependencies`` tree, nested ones included."""
    stack: list[tuple[str, dict[str, Any], int]] = [("", dependencies, 0)]
    while stack:
        prefix, level, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LimitExceeded(f"dependencies are nested deeper than {MAX_DEPTH}")
        for name, entry in level.items():
            if not isinstance(entry, dict):
                continue
            path = f"{prefix}node_modules/{name}"
            yield path, name, entry.get("version")
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append((path + "/", nested, depth + 1))


def entries(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """The entries of a lockfile of a known ``lockfileVersion``."""
    version = document.get("lockfileVersion")
    if version in (2, 3):
        return packages_entries(_mapping(document, "packages"))
    if version == 1:
        return dependencies_entries(_mapping(document, "dependencies"))
    raise ParseError(f"unsupported lockfileVersion {repr(version)[:20]}")


def resolve(name: Any, version: Any) -> tuple[str, str] | None:
    """(name, version) of a registry package; None for git/file/URL versions; ParseError for a bad name."""
    if not isinstance(version, str):
        return None
    alias = _ALIAS.match(version)
    if alias:
        name, version = alias.group(1), alias.group(2)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParseError(f"invalid package name {str(name)[:80]!r}")
    return (name, version) if _VERSION.match(version) else None


class NpmLockExtractor:
    """Reads the locked packages of an npm project."""

    name = "npm-lock"
    directory_pattern = r".*"
    name_pattern = r"package-lock\.json|npm-shrinkwrap\.json"

    def wants(self, info: FileInfo) -> bool:
        return info.path.rpartition("/")[2] in _FILES

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        document = load_lock(target.read_bytes(info.path, MAX_SIZE))
        found: dict[tuple[str, str], Package] = {}
        for key, name, version in entries(document):
            try:
                pair = resolve(name, version)
            except ParseError as exc:
                context.add_error(info.path, f"{self.name}: {key[:200]!r}: {exc.message}")
                continue
            if pair is not None:
                found.setdefault(pair, Package(pair[0], pair[1], "npm", "/" + info.path, self.name))
        return list(found.values())
