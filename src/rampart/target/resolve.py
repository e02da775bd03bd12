"""Opening a file of a root filesystem the way a chroot would: every link is resolved inside the root.

Resolution goes one path component at a time through directory file descriptors (``openat`` with
``O_NOFOLLOW``), so an absolute link ``/usr/lib/x`` means ``<root>/usr/lib/x``, ``..`` never climbs above the
root, a swapped-in symlink cannot redirect the open, and loops stop after ``MAX_LINK_HOPS`` links.
Only regular files are opened: a FIFO or device node is refused before it is ever opened for reading.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable, Iterable

MAX_LINK_HOPS = 40

_PATH_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def split_path(path: str) -> list[str]:
    """The non-empty components of a POSIX path (leading '/' ignored)."""
    return [part for part in path.split("/") if part and part != "."]


class _Walker:
    """The state of one resolution: a stack of open directory descriptors, from the root down."""

    def __init__(self, root_fd: int, excluded: Callable[[str], bool]) -> None:
        self.fds = [root_fd]
        self.names: list[str] = []
        self.hops = 0
        self.excluded = excluded

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def up(self) -> None:
        if self.names:
            self.names.pop()
            os.close(self.fds.pop())

    def reset(self) -> None:
        while self.names:
            self.up()

    def step(self, name: str) -> os.stat_result:
        """Open ``name`` in the current directory without following it; push it; return its lstat."""
        fd = os.open(name, _PATH_FLAGS, dir_fd=self.fds[-1])
        self.fds.append(fd)
        self.names.append(name)
        if self.excluded("/".join(self.names)):
            raise OSError(errno.EACCES, "path lies in an excluded part of the target")
        return os.fstat(fd)

    def follow(self, pending: deque[str]) -> None:
        """Replace the symlink on top of the stack by its target's components."""
        self.hops += 1
        if self.hops > MAX_LINK_HOPS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links")
        link = os.readlink(self.names[-1], dir_fd=self.fds[-2])
        self.up()
        if link.startswith("/"):
            self.reset()
        pending.extendleft(reversed(split_path(link)))

    def reopen_for_reading(self, expected: os.stat_result) -> int:
        """Open the (regular) file on top of the stack for reading, checking it is still the same inode."""
        fd = os.open(self.names[-1], _READ_FLAGS, dir_fd=self.fds[-2])
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (expected.st_dev, expected.st_ino) or not stat.S_ISREG(now.st_mode):
            os.close(fd)
            raise OSError(errno.EAGAIN, "file changed while it was being opened")
        return fd


def _resolve(walker: _Walker, parts: Iterable[str]) -> int:
    pending = deque(parts)
    info: os.stat_result | None = None
    while pending:
        name = pending.popleft()
        if name == "..":
            walker.up()
            info = None
            continue
        info = walker.step(name)
        if stat.S_ISLNK(info.st_mode):
            walker.follow(pending)
            info = None
        elif pending and not stat.S_ISDIR(info.st_mode):
            raise OSError(errno.ENOTDIR, "not a directory")
    if info is None or not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EISDIR if info is None else errno.EINVAL, "not a regular file")
    return walker.reopen_for_reading(info)


def open_in_root(root: str, path: str, excluded: Callable[[str], bool] = lambda _: False) -> int:
    """A read-only descriptor of ``path`` resolved inside ``root``; OSError when it cannot be opened.

    ``excluded(relative_path)`` may refuse directories the resolution must not enter (a host's /proc).
    """
    walker = _Walker(os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), excluded)
    try:
        return _resolve(walker, split_path(path))
    finally:
        walker.close()
