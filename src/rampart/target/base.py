"""The Target protocol every filesystem view implements, and the FileInfo it yields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from rampart.model import FileError


@dataclass(frozen=True)
class FileInfo:
    """A regular file inside a target.

    ``path`` is relative to the target root, POSIX style, no leading '/'; ``mode`` is the full ``st_mode``.
    """

    path: str
    size: int
    mode: int


class Target(Protocol):
    """A read-only tree that rampart walks once; paths never resolve outside its root."""

    @property
    def name(self) -> str: ...

    @property
    def errors(self) -> tuple[FileError, ...]:
        """Parts of the tree the walk could not read (unreadable directories), found so far."""
        ...

    def walk(self) -> Iterator[FileInfo]:
        """Every regular file in the tree, each once."""
        ...

    def open(self, path: str) -> BinaryIO:
        """Open a file of the tree for binary reading (links resolved inside the root)."""
        ...

    def read_bytes(self, path: str, limit: int) -> bytes:
        """A whole file's bytes; raises LimitExceeded when it is larger than ``limit``."""
        ...
