"""ZipTarget: a zip bundle (a serverless function package, a layer) as a read-only Target, never extracted.

The central directory is read once when the target is opened (see ``index``); a walk yields the regular
files directory by directory, and every read decompresses one member into memory (at most
``max_file_bytes``). Symbolic links stored in the zip are recorded, never walked, and followed by ``open``
only while they stay inside the bundle.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from rampart.bundle.index import BundleError, Index, Limits, build_index
from rampart.errors import LimitExceeded, ParseError
from rampart.model import FileError
from rampart.target.base import DirectoryFilter, FileInfo

MAX_HOPS = 40
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


class EntryError(ParseError):
    """One member's bytes cannot be read (damaged data, bad checksum, a local header that lies)."""


class ZipTarget:
    """The files of a zip bundle, read straight from the archive."""

    def __init__(self, path: str | os.PathLike[str], limits: Limits | None = None) -> None:
        self.path = os.fspath(path)
        self.limits = limits or Limits()
        self._archive = _open_zip(self.path)
        try:
            self._index: Index = build_index(self._archive, self.limits)
        except BaseException:
            self._archive.close()
            raise
        self.files_walked = 0

    @property
    def name(self) -> str:
        return self.path

    @property
    def errors(self) -> tuple[FileError, ...]:
        return tuple(self._index.errors)

    @property
    def symlinks(self) -> frozenset[str]:
        """Paths of the symbolic links the bundle holds (recorded, never walked)."""
        return frozenset(self._index.links)

    def walk(self, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every regular file of the bundle (``wanted`` ones only), each once, directories in name order."""
        for directory in sorted(self._index.directories):
            named = wanted(directory) if wanted is not None else None
            prefix = directory + "/" if directory else ""
            for name, member in sorted(self._index.directories[directory].items()):
                self.files_walked += 1
                if named is None or named(name):
                    yield FileInfo(prefix + name, member.file_size, _mode(member))

    def open(self, path: str) -> BinaryIO:
        """The file's bytes (links resolved inside the bundle) as an in-memory stream."""
        return io.BytesIO(self.read_bytes(path, self.limits.max_file_bytes))

    def read_bytes(self, path: str, limit: int) -> bytes:
        member = self._member(path)
        if member.file_size > min(limit, self.limits.max_file_bytes):
            cap = min(limit, self.limits.max_file_bytes)
            raise LimitExceeded(f"file is larger than the {cap}-byte limit")
        return self._read(member)

    def _read(self, member: zipfile.ZipInfo) -> bytes:
        try:
            with self._archive.open(member) as handle:
                data = handle.read(member.file_size + 1)
        except READ_ERRORS as exc:
            raise EntryError(f"cannot read zip member: {exc}") from None
        if len(data) != member.file_size:
            raise EntryError("zip member is shorter or longer than its directory entry says")
        return data

    def _member(self, path: str) -> zipfile.ZipInfo:
        resolved = self._resolve(path)
        member = self._index.files.get(resolved)
        if member is None:
            if resolved in self._index.directories:
                raise OSError(errno.EISDIR, "is a directory")
            raise FileNotFoundError(errno.ENOENT, "no such file in the bundle")
        return member

    def _resolve(self, path: str) -> str:
        """``path`` with every symbolic link in it replaced, never leaving the bundle root."""
        pending, done, hops = path.split("/"), list[str](), 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    raise OSError(errno.EXDEV, "a path or link leads outside the bundle")
                done.pop()
                continue
            link = self._index.links.get("/".join([*done, part]))
            if link is None:
                done.append(part)
                continue
            hops += 1
            if hops > MAX_HOPS:
                raise OSError(errno.ELOOP, "too many levels of symbolic links")
            pending[:0] = self._link_target(link).split("/")
        return "/".join(done)

    def _link_target(self, link: zipfile.ZipInfo) -> str:
        target = self._read(link).decode("utf-8", errors="replace")
        if target.startswith("/") or "\x00" in target or "\\" in target:
            raise OSError(errno.EXDEV, "a symbolic link leads outside the bundle")
        return target

    def close(self) -> None:
        """Release the archive file."""
        self._archive.close()

    def __enter__(self) -> ZipTarget:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ZipTarget({self.name!r})"


def _mode(member: zipfile.ZipInfo) -> int:
    """A regular file's st_mode: the Unix permissions a zip made on Unix records, else 0644."""
    perms = stat.S_IMODE(member.external_attr >> 16) if member.create_system == 3 else 0
    return stat.S_IFREG | (perms or 0o644)


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError(f"bundle {path!r} does not exist") from None
    except IsADirectoryError:
        raise BundleError(f"bundle {path!r} is a directory, not a zip file") from None
    except OSError as exc:
        raise BundleError(f"bundle {path!r} cannot be read: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, struct.error) as exc:
        raise BundleError(f"bundle {path!r} is not a readable zip archive: {exc}") from None


def open_bundle(path: str | os.PathLike[str], limits: Limits | None = None) -> ZipTarget:
    """The zip bundle at ``path`` as a Target; raises BundleError when it cannot be scanned at all."""
    return ZipTarget(path, limits)
