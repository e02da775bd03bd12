"""Installed package names of a target, read with the scanner's own extractors (dpkg, rpm, apk).

A harden view is not a scanner `Target`, so `_ViewTarget` adapts it: text databases (dpkg ``status`` and
``status.d``, apk ``installed``) are read through ``view.read_text``; rpm's binary SQLite database only where
the view is a directory (`RootView`), through the scanner's own `DirectoryTarget`. No database at all is a
`ViewError` (the rule is then ``error``): a check cannot say a package is absent without one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from rampart.errors import LimitExceeded, RampartError
from rampart.harden.context import Context
from rampart.harden.view import SystemView, ViewError
from rampart.inventory.apk import INSTALLED, ApkExtractor
from rampart.inventory.base import ExtractContext
from rampart.inventory.dpkg import STATUS, STATUS_D, DpkgExtractor
from rampart.inventory.rpm import PATHS as RPM_PATHS
from rampart.inventory.rpm import RpmExtractor
from rampart.target.base import FileInfo, Target
from rampart.target.directory import DirectoryTarget


@dataclass(frozen=True)
class InstalledPackages:
    """The installed names, which package manager's database they came from, and problems met reading it."""

    names: frozenset[str]
    manager: str
    sources: tuple[str, ...]
    problems: tuple[str, ...] = ()


class _ViewTarget:
    """Just enough of a scanner Target over a SystemView for the text extractors (``read_bytes``)."""

    def __init__(self, view: SystemView) -> None:
        self.view = view

    def read_bytes(self, path: str, limit: int) -> bytes:
        text = self.view.read_text("/" + path)
        if text is None:
            raise ViewError(f"/{path}: missing")
        data = text.encode("utf-8")
        if len(data) > limit:
            raise LimitExceeded(f"/{path}: larger than {limit} bytes")
        return data

    def open(self, path: str) -> BinaryIO:
        return io.BytesIO(self.read_bytes(path, 1 << 30))


def _dpkg_files(view: SystemView) -> list[str]:
    found = [STATUS] if view.stat("/" + STATUS) is not None else []
    names = view.listdir("/" + STATUS_D.rstrip("/")) or []
    return found + [STATUS_D + name for name in names if not name.endswith(".md5sums")]


def _run(
    extractor: DpkgExtractor | ApkExtractor | RpmExtractor, target: object, paths: list[str]
) -> InstalledPackages:
    context = ExtractContext()
    names: set[str] = set()
    for path in paths:
        packages = extractor.extract(FileInfo(path, 0, 0o100644), target, context)  # type: ignore[arg-type]
        names.update(package.name for package in packages)
    problems = tuple(f"{error.path}: {error.message}" for error in context.errors)
    return InstalledPackages(frozenset(names), extractor.name, tuple("/" + path for path in paths), problems)


def _rpm(view: SystemView) -> InstalledPackages | None:
    paths = sorted(path for path in RPM_PATHS if view.stat("/" + path) is not None)
    if not paths:
        return None
    root = getattr(view, "root", None)
    if not isinstance(root, str):
        raise ViewError(f"/{paths[0]}: rpm database found, but this target cannot be read as a directory")
    target: Target = DirectoryTarget(root)
    return _run(RpmExtractor(), target, paths[:1])


def read_installed(view: SystemView) -> InstalledPackages:
    """The target's installed packages; ViewError when no package database is there or it cannot be read."""
    try:
        dpkg = _dpkg_files(view)
        if dpkg:
            return _run(DpkgExtractor(), _ViewTarget(view), dpkg)
        if view.stat("/" + INSTALLED) is not None:
            return _run(ApkExtractor(), _ViewTarget(view), [INSTALLED])
        found = _rpm(view)
    except ViewError:
        raise
    except RampartError as exc:
        raise ViewError(f"package database unreadable: {exc.message}") from None
    if found is None:
        raise ViewError("no package database (dpkg, rpm or apk) on the target")
    return found


def installed_packages(context: Context) -> InstalledPackages:
    """`read_installed` once per run."""
    return context.memo("packages", lambda: read_installed(context.view))
