"""Where raw OSV records come from: zip exports, folders of JSON/YAML files, single files.

Zips are read member by member as streams with caps on member count, total bytes, bytes per
record and compression ratio; nothing is extracted and a member's name is only ever a label,
never a path. A member or file that breaks a per-record cap becomes a `RawRecord` with a
``problem`` (counted by the importer); a zip that breaks a whole-archive cap, or whose structure
or CRCs are damaged, raises `ParseError` because nothing it holds can be trusted.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rampart.advisories.osv import MAX_RECORD_BYTES, TOO_LARGE
from rampart.errors import LimitExceeded, ParseError

RECORD_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
SUSPICIOUS_RATIO = "suspicious compression ratio"
UNREADABLE_MEMBER = "unreadable zip member"
UNREADABLE_FILE = "unreadable file"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """Caps on what one import is willing to read."""

    max_record_bytes: int = MAX_RECORD_BYTES
    max_members: int = 1_000_000
    max_total_bytes: int = 8 << 30
    max_ratio: int = 100
    ratio_floor_bytes: int = 64 << 10


@dataclass(frozen=True)
class RawRecord:
    """The bytes of one record (``fmt`` json or yaml), or the ``problem`` that kept them unread."""

    origin: str
    data: bytes
    fmt: str = "json"
    problem: str | None = None


def iter_records(paths: Iterable[Path], limits: Limits = Limits()) -> Iterator[RawRecord]:
    """Every record under ``paths``: zips, folders (recursively) and single JSON/YAML files."""
    for path in paths:
        if path.is_dir():
            yield from _iter_folder(path, limits)
        elif path.suffix.lower() == ".zip" or _is_unnamed_zip(path):
            yield from iter_zip(path, limits)
        elif path.is_file():
            yield _read_file(path, limits)
        else:
            raise ParseError(f"{path}: no such file or directory")


def _is_unnamed_zip(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() not in RECORD_SUFFIXES and zipfile.is_zipfile(path)


def _iter_folder(folder: Path, limits: Limits) -> Iterator[RawRecord]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() == ".zip":
                yield from iter_zip(path, limits)
            elif path.suffix.lower() in RECORD_SUFFIXES:
                yield _read_file(path, limits)


def _read_file(path: Path, limits: Limits) -> RawRecord:
    fmt = RECORD_SUFFIXES.get(path.suffix.lower(), "json")
    try:
        with path.open("rb") as stream:
            data = stream.read(limits.max_record_bytes + 1)
    except OSError as error:
        return RawRecord(str(path), b"", fmt, f"{UNREADABLE_FILE} ({error.strerror})")
    problem = TOO_LARGE if len(data) > limits.max_record_bytes else None
    return RawRecord(str(path), b"" if problem else data, fmt, problem)


def count_members(path: Path, limits: Limits = Limits()) -> int:
    """How many records a zip declares; checks the structure and the member-count cap."""
    with _open_zip(path) as archive:
        return len(_members(archive, path, limits))


def iter_zip(path: Path, limits: Limits = Limits()) -> Iterator[RawRecord]:
    """The records of one zip, read as streams; CRCs are verified as each member is read."""
    with _open_zip(path) as archive:
        total = 0
        for info in _members(archive, path, limits):
            record = _read_member(archive, info, path, limits)
            total += len(record.data)
            if total > limits.max_total_bytes:
                raise LimitExceeded(f"{path}: more than {limits.max_total_bytes} bytes uncompressed")
            yield record


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ParseError(f"{path}: not a readable zip file ({error})") from None


def _members(archive: zipfile.ZipFile, path: Path, limits: Limits) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > limits.max_members:
        raise LimitExceeded(f"{path}: {len(members)} members, more than the limit of {limits.max_members}")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limits: Limits) -> RawRecord:
    origin = f"{path}:{info.filename!r}"
    fmt = RECORD_SUFFIXES.get(Path(info.filename).suffix.lower(), "json")
    if info.file_size > limits.max_record_bytes:
        return RawRecord(origin, b"", fmt, TOO_LARGE)
    if _suspicious_ratio(info, limits):
        return RawRecord(origin, b"", fmt, SUSPICIOUS_RATIO)
    try:
        with archive.open(info) as stream:
            data = _read_capped(stream, limits.max_record_bytes)
    except (RuntimeError, NotImplementedError):
        return RawRecord(origin, b"", fmt, UNREADABLE_MEMBER)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise ParseError(f"{path}: corrupt zip member {info.filename!r} ({error})") from None
    return RawRecord(origin, b"", fmt, TOO_LARGE) if data is None else RawRecord(origin, data, fmt)


def _suspicious_ratio(info: zipfile.ZipInfo, limits: Limits) -> bool:
    if info.file_size < limits.ratio_floor_bytes:
        return False
    return info.file_size > limits.max_ratio * max(info.compress_size, 1)


def _read_capped(stream: IO[bytes], cap: int) -> bytes | None:
    """All of the stream, or None as soon as it proves longer than ``cap`` (header sizes can lie)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
