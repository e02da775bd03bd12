"""The Target protocol every filesystem view implements, and the FileInfo it yields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol, runtime_checkable

from rampart.model import FileError

StatLoader = Callable[[], tuple[int, int]]
NameFilter = Callable[[str], object]
"""Asked of each file name in one directory during a walk; a false answer passes the file over unseen."""
DirectoryFilter = Callable[[str], NameFilter]
"""Asked once per directory (its relative path, '' for the root): the name test for the files in it."""


class FileInfo:
    """A regular file inside a target.

    ``path`` is relative to the target root, POSIX style, no leading '/'; ``mode`` is the full ``st_mode``.
    A walk may pass a ``loader`` instead of size and mode: the file is then stat'ed only when an extractor
    asks for either (most files of a host are chosen or passed over by their path alone).
    """

    __slots__ = ("_loader", "_stat", "path")

    def __init__(self, path: str, size: int = 0, mode: int = 0, *, loader: StatLoader | None = None) -> None:
        self.path = path
        self._loader = loader
        self._stat = None if loader else (size, mode)

    @property
    def size(self) -> int:
        return self._stat_pair()[0]

    @property
    def mode(self) -> int:
        return self._stat_pair()[1]

    def _stat_pair(self) -> tuple[int, int]:
        if self._stat is None:
            assert self._loader is not None
            self._stat = self._loader()
        return self._stat

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileInfo):
            return NotImplemented
        return (self.path, self._stat_pair()) == (other.path, other._stat_pair())

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"FileInfo({self.path!r}, size={self.size}, mode={self.mode:o})"


class Target(Protocol):
    """A read-only tree that rampart walks once; paths never resolve outside its root."""

    @property
    def name(self) -> str: ...

    @property
    def errors(self) -> tuple[FileError, ...]:
        """Parts of the tree the walk could not read (unreadable directories), found so far."""
        ...

    @property
    def files_walked(self) -> int:
        """How many regular files the walks so far went past, wanted or not."""
        ...

    def walk(self, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every regular file in the tree, each once (with ``wanted``, only the files it accepts)."""
        ...

    def open(self, path: str) -> BinaryIO:
        """Open a file of the tree for binary reading (links resolved inside the root)."""
        ...

    def read_bytes(self, path: str, limit: int) -> bytes:
        """A whole file's bytes; raises LimitExceeded when it is larger than ``limit``."""
        ...


@runtime_checkable
class PartitionedTarget(Target, Protocol):
    """A target whose walk can be cut into subtrees, walked by several processes at once."""

    def partition(self, depth: int = 2) -> tuple[list[FileInfo], list[str]]:
        """The files above the cut and the subtree roots at it; together they cover the tree once."""
        ...

    def walk_from(self, rel: str, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every (wanted) regular file below the subtree root ``rel``."""
        ...
