"""What checks may ask of a target: the `SystemView` protocol, the `Stat` it answers with, and `ViewError`.

A view is read-only. Paths are absolute POSIX paths inside the target (``/etc/shadow``); links resolve inside
the target's root, never outside it. ``runtime`` is the running system's state (None on offline targets).
"""

from __future__ import annotations

import stat as statmod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rampart.errors import RampartError
from rampart.harden.runtime import Runtime

HOST, ROOTFS, IMAGE = "host", "rootfs", "image"
EntryFilter = Callable[[int, int, int], bool]
"""Asked of every entry of a walk with its raw ``st_mode``, uid and gid: only entries it keeps become `Stat`."""
MAX_TEXT_BYTES = 4 << 20


class ViewError(RampartError):
    """A file of the target could not be read as asked (unreadable, not a regular file, too large)."""


@dataclass(frozen=True)
class Stat:
    """One entry's facts: ``kind`` is file, dir, link or other; ``mode`` holds the permission bits (0o7777)."""

    path: str
    kind: str
    mode: int
    uid: int | None
    gid: int | None
    size: int = 0
    target: str = ""

    @classmethod
    def from_os(cls, path: str, st_mode: int, uid: int, gid: int, size: int, target: str = "") -> Stat:
        return cls(path, kind_of(st_mode), statmod.S_IMODE(st_mode), uid, gid, size, target)


def kind_of(st_mode: int) -> str:
    if statmod.S_ISREG(st_mode):
        return "file"
    if statmod.S_ISDIR(st_mode):
        return "dir"
    if statmod.S_ISLNK(st_mode):
        return "link"
    return "other"


class SystemView(Protocol):
    """A read-only target: files and their facts, an optional runtime, and what kind of system it is."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str:
        """``host`` (the live system), ``rootfs`` (a root filesystem directory) or ``image``."""
        ...

    @property
    def capabilities(self) -> frozenset[str]:
        """Among ``kernel``, ``systemd``, ``runtime``, ``image``: what the target has, for rules' ``requires``."""
        ...

    @property
    def runtime(self) -> Runtime | None: ...

    @property
    def image_config(self) -> Mapping[str, Any] | None:
        """An image's config document (``config.User``, ``config.Env``, ...); None for other targets."""
        ...

    def stat(self, path: str, follow: bool = True) -> Stat | None:
        """The entry at ``path`` (None when it does not exist); ``follow`` resolves a final link."""
        ...

    def read_text(self, path: str) -> str | None:
        """A regular file's text (UTF-8, undecodable bytes replaced); None when missing; ViewError otherwise."""
        ...

    def listdir(self, path: str) -> list[str] | None:
        """The sorted names in a directory; None when it does not exist or is not a directory."""
        ...

    def glob(self, pattern: str) -> list[str]:
        """Sorted absolute paths matching a shell pattern (``*``, ``?``, ``[..]`` within one component)."""
        ...

    def walk(self, keep: EntryFilter | None = None) -> Iterator[Stat]:
        """Every entry of the target's local filesystems once, links not followed (the shared walk); with
        ``keep``, only the entries it accepts (it is still asked about every entry, so it can count them)."""
        ...
