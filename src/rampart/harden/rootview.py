"""`RootView`: a SystemView over a root filesystem directory, or over the live host's ``/`` with its runtime.

Every path resolves one component at a time inside the root: an absolute link restarts at the root, ``..``
stops at it, and too many links is a loop. The shared walk stays off the host's pseudo, memory and network
mounts (the same choice the scanner makes).
"""

from __future__ import annotations

import fnmatch
import os
import stat as statmod
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from rampart.harden.runtime import Runtime
from rampart.harden.view import HOST, MAX_TEXT_BYTES, ROOTFS, EntryFilter, Stat, ViewError
from rampart.target.directory import describe_os_error
from rampart.target.host import read_skipped_mounts
from rampart.target.resolve import MAX_LINK_HOPS, split_path

_TYPE_BITS = 0o170000
SYSTEMD_MARKERS = ("/lib/systemd/systemd", "/usr/lib/systemd/systemd")


class RootView:
    """A read-only view of the tree at ``root``; ``runtime`` makes it a live system (the host)."""

    def __init__(self, root: str, runtime: Runtime | None = None, name: str | None = None) -> None:
        self.root = os.path.abspath(root)  # noqa: PTH100 - links in the root path stay as given
        self._runtime = runtime
        self._name = name or self.root

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return HOST if self._runtime is not None else ROOTFS

    @cached_property
    def capabilities(self) -> frozenset[str]:
        found = set() if self._runtime is not None and self._runtime.container() else {"kernel"}
        if any(self.stat(marker) is not None for marker in SYSTEMD_MARKERS):
            found.add("systemd")
        if self._runtime is not None:
            found.add("runtime")
        return frozenset(found)

    @property
    def runtime(self) -> Runtime | None:
        return self._runtime

    @property
    def image_config(self) -> Mapping[str, Any] | None:
        return None

    def _host_path(self, path: str, follow: bool) -> str:
        """The path on this machine that ``path`` names inside the root (links resolved inside the root)."""
        resolved: list[str] = []
        pending = split_path(path)
        hops = 0
        while pending:
            name = pending.pop(0)
            if name == "..":
                resolved = resolved[:-1]
                continue
            here = Path(self.root, *resolved, name)
            if (follow or pending) and here.is_symlink():
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise ViewError(f"{path}: too many levels of symbolic links")
                target = os.fspath(here.readlink())
                resolved = [] if target.startswith("/") else resolved
                pending = split_path(target) + pending
                continue
            resolved.append(name)
        return os.fspath(Path(self.root, *resolved))

    def stat(self, path: str, follow: bool = True) -> Stat | None:
        try:
            host_path = self._host_path(path, follow)
            st = os.lstat(host_path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ViewError(f"{path}: {describe_os_error(exc)}") from None
        target = os.fspath(Path(host_path).readlink()) if statmod.S_ISLNK(st.st_mode) else ""
        return Stat.from_os(path, st.st_mode, st.st_uid, st.st_gid, st.st_size, target)

    def read_text(self, path: str) -> str | None:
        try:
            return self._read(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ViewError(f"{path}: {describe_os_error(exc)}") from None

    def _read(self, path: str) -> str:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(self._host_path(path, True), flags)
        with os.fdopen(fd, "rb") as handle:
            if not statmod.S_ISREG(os.fstat(fd).st_mode):
                raise ViewError(f"{path}: not a regular file")
            data = handle.read(MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise ViewError(f"{path}: larger than {MAX_TEXT_BYTES >> 20} MiB, not read")
        return data.decode("utf-8", errors="replace")

    def listdir(self, path: str) -> list[str] | None:
        try:
            return sorted(entry.name for entry in Path(self._host_path(path, True)).iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ViewError(f"{path}: {describe_os_error(exc)}") from None

    def glob(self, pattern: str) -> list[str]:
        found = ["/"]
        for part in split_path(pattern):
            found = [match for base in found for match in self._matches(base, part)]
        return sorted(found)

    def _matches(self, base: str, part: str) -> list[str]:
        if not any(char in part for char in "*?["):
            return [_join(base, part)] if self.stat(_join(base, part), follow=False) else []
        names = self.listdir(base) or []
        return [
            _join(base, name)
            for name in fnmatch.filter(names, part)
            if not name.startswith(".") or part.startswith(".")
        ]

    def walk(self, keep: EntryFilter | None = None) -> Iterator[Stat]:
        skipped = {"/" + rel for rel in read_skipped_mounts()} if self.kind == HOST else set()
        prefix = len(self.root.rstrip("/"))
        pending = [self.root]
        while pending:
            yield from self._scan(pending.pop(), pending, skipped, prefix, keep)

    def _scan(
        self, directory: str, pending: list[str], skipped: set[str], prefix: int, keep: EntryFilter | None
    ) -> Iterator[Stat]:
        """One directory's entries (``keep`` asked with raw stat facts first); subdirectories go on ``pending``."""
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    mode = st.st_mode
                    if keep is None or keep(mode, st.st_uid, st.st_gid):
                        yield Stat.from_os(entry.path[prefix:], mode, st.st_uid, st.st_gid, st.st_size)
                    if mode & _TYPE_BITS == statmod.S_IFDIR and entry.path[prefix:] not in skipped:
                        pending.append(entry.path)
        except OSError:
            return

    def __repr__(self) -> str:
        return f"RootView({self.root!r}, kind={self.kind})"


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name
