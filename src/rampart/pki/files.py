"""Writing and reading secret-bearing files: atomic replacement, private modes, refusal of unsafe modes.

A file is written to a temporary sibling, fsynced, given its mode and then renamed over the target,
so a reader sees either the old or the new content, never a mix. Private files get mode 0600 and
their directory 0700. Reading a private file refuses one that group or others may read.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from rampart.durable import fsync_directory

PRIVATE_FILE = 0o600
PUBLIC_FILE = 0o644
PRIVATE_DIR = 0o700


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) if needed and set its mode to 0700."""
    directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    directory.chmod(PRIVATE_DIR)


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` atomically; the file has ``mode`` from its first byte on."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    fsync_directory(path.parent)


def read_limited(path: Path, limit: int, *, private: bool) -> bytes:
    """Read at most ``limit`` bytes of a regular file, refusing symlinks and, if ``private``, open modes.

    Raises OSError when the file cannot be read and ValueError (with a human message) when it is
    not a regular file, is larger than ``limit`` or is readable by group or others.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _check_file(path, info, limit, private=private)
        return handle.read(limit + 1)[:limit]


def _check_file(path: Path, info: os.stat_result, limit: int, *, private: bool) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > limit:
        raise ValueError(f"{path} is larger than {limit} bytes")
    mode = stat.S_IMODE(info.st_mode)
    if private and mode & 0o077:
        raise ValueError(f"{path} is readable by others (mode {mode:04o}); run: chmod 600 {path}")
