"""HostTarget: the live host's root filesystem minus its pseudo, memory and network mounts (``mounts``)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from rampart.target.directory import DirectoryTarget
from rampart.target.mounts import ALWAYS_SKIPPED, skipped_mounts
from rampart.target.resolve import split_path

MOUNTINFO = Path("/proc/self/mountinfo")


def read_skipped_mounts(mountinfo: Path = MOUNTINFO) -> frozenset[str]:
    """The mount points to skip on this host; only the always-skipped ones when mountinfo is unreadable."""
    try:
        return skipped_mounts(mountinfo.read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError:
        return ALWAYS_SKIPPED


_DIRECT_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _regular_or_refuse(fd: int, path: str) -> BinaryIO:
    """The open file when it is a regular file; a FIFO or device is closed and refused."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


class HostTarget(DirectoryTarget):
    """The running system's ``/``, walked without entering skipped mounts."""

    def __init__(self, skip: frozenset[str] | None = None) -> None:
        super().__init__("/", read_skipped_mounts() if skip is None else skip)

    @property
    def name(self) -> str:
        return "host:/"

    def open(self, path: str) -> BinaryIO:
        """Open a regular file; a path with no link in its last component is opened in one call.

        On the host the root is ``/`` itself, so no link can lead outside it: the component-wise
        resolution is needed only to keep out of skipped mounts, which the walk never enters and a
        last-component link (refused here by ``O_NOFOLLOW``, then resolved the slow way) could reach.
        """
        names = split_path(path)
        if any("/".join(names[: i + 1]) in self.skip for i in range(len(names))):
            return super().open(path)
        try:
            fd = os.open("/" + "/".join(names), _DIRECT_FLAGS)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            return super().open(path)
        return _regular_or_refuse(fd, path)

    def __repr__(self) -> str:
        return "HostTarget()"
