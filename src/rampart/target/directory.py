"""DirectoryTarget: a read-only view of a directory holding a root filesystem (an unpacked image, a mount).

The walk is one iterative ``os.scandir`` pass that never follows symlinks, so it never leaves the root and
yields only regular files; unreadable directories become FileErrors in ``errors`` and the walk goes on.
Opening a file resolves links inside the root like a chroot (see ``resolve``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

from rampart.errors import LimitExceeded
from rampart.model import FileError
from rampart.target.base import DirectoryFilter, FileInfo
from rampart.target.resolve import open_in_root, split_path


def _size_and_mode(entry: os.DirEntry[str]) -> tuple[int, int]:
    """A file's size and mode, looked up when first asked for; a file gone since the walk is empty."""
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return (0, 0)
    return (st.st_size, st.st_mode)


def describe_os_error(exc: OSError) -> str:
    """A one-line message for an OSError, without the path (callers add it)."""
    return exc.strerror or str(exc) or type(exc).__name__


class DirectoryTarget:
    """A directory treated as the root ``/`` of a filesystem."""

    def __init__(self, root: str | os.PathLike[str], skip: frozenset[str] = frozenset()) -> None:
        """``skip`` holds directory paths (relative, no leading '/') that are neither walked nor opened."""
        self.root = os.path.realpath(os.fspath(root))
        self.skip = skip
        self._base = self.root.rstrip("/") + "/"
        self._errors: list[FileError] = []
        self.files_walked = 0

    @property
    def name(self) -> str:
        return self.root

    @property
    def errors(self) -> tuple[FileError, ...]:
        return tuple(self._errors)

    def walk(self, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every regular file under the root (``wanted`` ones only, when given), symlinks never followed."""
        return self.walk_from("", wanted)

    def walk_from(self, rel: str, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every regular file below the directory ``rel`` (relative to the root, '' for the root)."""
        pending = [rel]
        while pending:
            yield from self._scan(pending.pop(), pending, wanted)

    def partition(self, depth: int = 2) -> tuple[list[FileInfo], list[str]]:
        """The tree cut ``depth`` levels down: the files above the cut, and the directories at it.

        Walking each directory with ``walk_from`` after taking the files gives every file once, so the
        directories can be shared among worker processes.
        """
        files: list[FileInfo] = []
        level = [""]
        for _ in range(depth):
            below: list[str] = []
            for rel in level:
                files += self._scan(rel, below, None)
            level = below
        return files, level

    def _scan(self, rel: str, pending: list[str], wanted: DirectoryFilter | None) -> list[FileInfo]:
        """The (wanted) regular files directly in ``rel``; its subdirectories are pushed on ``pending``.

        This is the walk's inner loop, run once per entry of the whole tree: it stays flat on purpose.
        """
        prefix = rel + "/" if rel else ""
        files: list[FileInfo] = []
        named = wanted(rel) if wanted is not None else None
        try:
            with os.scandir(self._base + rel) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        path = prefix + entry.name
                        if path not in self.skip:
                            pending.append(path)
                    elif entry.is_file(follow_symlinks=False):
                        self.files_walked += 1
                        if named is None or named(entry.name):
                            files.append(FileInfo(prefix + entry.name, loader=partial(_size_and_mode, entry)))
        except OSError as exc:
            self._errors.append(FileError("/" + rel, f"cannot read directory: {describe_os_error(exc)}"))
        return files

    def _excluded(self, rel: str) -> bool:
        return rel in self.skip

    def open(self, path: str) -> BinaryIO:
        """Open a regular file of the tree for reading; links are resolved inside the root."""
        fd = open_in_root(self.root, path, self._excluded)
        return os.fdopen(fd, "rb")

    def read_bytes(self, path: str, limit: int) -> bytes:
        """The file's bytes; LimitExceeded when it holds more than ``limit`` bytes."""
        with self.open(path) as handle:
            if os.fstat(handle.fileno()).st_size > limit:
                raise LimitExceeded(f"file is larger than the {limit}-byte limit")
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise LimitExceeded(f"file is larger than the {limit}-byte limit")
        return data

    def __repr__(self) -> str:
        return f"DirectoryTarget({self.root!r})"


__all__ = ["DirectoryTarget", "describe_os_error", "split_path"]
