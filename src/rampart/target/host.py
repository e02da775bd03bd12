"""HostTarget: the live host's root filesystem minus its pseudo, memory and network mounts (``mounts``)."""

from __future__ import annotations

from pathlib import Path

from rampart.target.directory import DirectoryTarget
from rampart.target.mounts import ALWAYS_SKIPPED, skipped_mounts

MOUNTINFO = Path("/proc/self/mountinfo")


def read_skipped_mounts(mountinfo: Path = MOUNTINFO) -> frozenset[str]:
    """The mount points to skip on this host; only the always-skipped ones when mountinfo is unreadable."""
    try:
        return skipped_mounts(mountinfo.read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError:
        return ALWAYS_SKIPPED


class HostTarget(DirectoryTarget):
    """The running system's ``/``, walked without entering skipped mounts."""

    def __init__(self, skip: frozenset[str] | None = None) -> None:
        super().__init__("/", read_skipped_mounts() if skip is None else skip)

    @property
    def name(self) -> str:
        return "host:/"

    def __repr__(self) -> str:
        return "HostTarget()"
