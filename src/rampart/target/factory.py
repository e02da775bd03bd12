"""open_target: turn a user's path into a Target, or a one-line TargetError saying why it cannot be."""

from __future__ import annotations

import os
from pathlib import Path

from rampart.errors import TargetError
from rampart.target.base import Target
from rampart.target.directory import DirectoryTarget, describe_os_error
from rampart.target.host import HostTarget


def _check_directory(path: str) -> None:
    if not Path(path).exists():
        raise TargetError(f"scan target {path!r} does not exist")
    if not Path(path).is_dir():
        raise TargetError(f"scan target {path!r} is not a directory")
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        raise TargetError(f"scan target {path!r} cannot be read: {describe_os_error(exc)}") from None


def open_target(path: str | os.PathLike[str]) -> Target:
    """``/`` is the live host (mount-aware); any other path is a directory holding a root filesystem."""
    text = os.fspath(path)
    _check_directory(text)
    if os.path.realpath(text) == "/":
        return HostTarget()
    return DirectoryTarget(text)
