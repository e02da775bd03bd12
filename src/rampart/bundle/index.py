"""The index of a zip bundle built from its central directory alone: caps, overlaps, names, file kinds.

Whole-archive problems (too many entries, too many bytes in all, two members sharing bytes: the
overlapping-entries bomb) raise BundleError, a per-target error. Problems of one member (a bad name,
encryption, an unknown compression method, a compression ratio past the cap) become a FileError and the
member is left out; the rest of the bundle is still used. Of two members with one path the later wins
(as an extraction would leave it) and the duplicate is reported.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from itertools import pairwise

from rampart.bundle.names import BadName, safe_path, shown
from rampart.errors import ParseError, TargetError
from rampart.model import FileError

LOCAL_HEADER = 30
RATIO_FLOOR = 1 << 20
READABLE = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


class BundleError(TargetError):
    """The bundle cannot be scanned at all: not a zip, truncated, a zip bomb, or past a whole-archive cap."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one bundle may make rampart read."""

    max_entries: int = 100_000
    max_total_bytes: int = 16 * 1024**3
    max_file_bytes: int = 64 * 1024**2
    max_ratio: int = 200
    max_link_bytes: int = 4096


@dataclass
class Index:
    """Regular files and symbolic links by path, directories with their files, and per-member errors."""

    files: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    links: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    directories: dict[str, dict[str, zipfile.ZipInfo]] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)


def build_index(archive: zipfile.ZipFile, limits: Limits) -> Index:
    """Check the whole archive, then file every member under its safe path."""
    members = archive.infolist()
    check_archive(members, archive.start_dir, limits)
    index = Index()
    for member in members:
        try:
            _file(index, safe_path(member.orig_filename), member, limits)
        except ParseError as exc:
            index.errors.append(FileError(shown(member.orig_filename), exc.message))
    _drop_file_directory_clashes(index)
    _group(index)
    return index


def check_archive(members: list[zipfile.ZipInfo], directory_start: int, limits: Limits) -> None:
    """Raise BundleError when the archive as a whole is past a cap or members share bytes."""
    if len(members) > limits.max_entries:
        raise BundleError(f"bundle has {len(members)} entries, more than the cap of {limits.max_entries}")
    total = sum(member.file_size for member in members)
    if total > limits.max_total_bytes:
        raise BundleError(
            f"bundle would unpack to {total} bytes, more than the cap of {limits.max_total_bytes}"
        )
    _check_overlaps(members, directory_start)


def _span(member: zipfile.ZipInfo) -> tuple[int, int]:
    """The least range of archive bytes a member's local header and data take (local extra unknown)."""
    name = member.orig_filename.encode("utf-8" if member.flag_bits & 0x800 else "cp437", "replace")
    start = member.header_offset
    return start, start + LOCAL_HEADER + len(name) + member.compress_size


def _check_overlaps(members: list[zipfile.ZipInfo], directory_start: int) -> None:
    spans = sorted(_span(member) for member in members)
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise BundleError(
                "bundle has overlapping entries (two members share bytes, the zip bomb by overlap)"
            )
    if spans and spans[-1][1] > directory_start:
        raise BundleError("bundle has an entry running into its central directory (damaged or crafted)")


def _kind(member: zipfile.ZipInfo) -> int:
    """The file type bits of a member made on Unix (0 when the zip records none)."""
    return stat.S_IFMT(member.external_attr >> 16) if member.create_system == 3 else 0


def _file(index: Index, path: str, member: zipfile.ZipInfo, limits: Limits) -> None:
    kind = _kind(member)
    if member.is_dir() or kind == stat.S_IFDIR:
        if path:
            index.directories.setdefault(path, {})
        return
    if not path:
        raise BadName("member name is empty")
    if kind not in (0, stat.S_IFREG, stat.S_IFLNK):
        raise ParseError("member is a device, fifo or socket, not a file")
    _check_member(member, limits, kind == stat.S_IFLNK)
    if path in index.files or path in index.links:
        index.errors.append(
            FileError("/" + path, "bundle holds this path more than once; the last one is used")
        )
        index.files.pop(path, None)
        index.links.pop(path, None)
    (index.links if kind == stat.S_IFLNK else index.files)[path] = member


def _check_member(member: zipfile.ZipInfo, limits: Limits, link: bool) -> None:
    if member.flag_bits & 0x1:
        raise ParseError("member is encrypted")
    if member.compress_type not in READABLE:
        raise ParseError(f"member uses compression method {member.compress_type}, which is not supported")
    if member.file_size > RATIO_FLOOR and member.file_size > limits.max_ratio * max(member.compress_size, 1):
        raise ParseError(
            f"member would unpack {member.file_size} bytes from {member.compress_size} "
            f"(more than {limits.max_ratio}:1, a zip bomb)"
        )
    if link and member.file_size > limits.max_link_bytes:
        raise ParseError("symbolic link target is implausibly long")


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _drop_file_directory_clashes(index: Index) -> None:
    """A path both a file (or link) and a directory's parent: the file goes, the directory stays."""
    parents = {parent for path in (*index.files, *index.links) for parent in _parents(path)}
    parents.update(parent for path in index.directories for parent in (*_parents(path), path))
    for table in (index.files, index.links):
        for path in sorted(parents & table.keys()):
            del table[path]
            index.errors.append(FileError("/" + path, "bundle holds this path as a file and as a directory"))


def _group(index: Index) -> None:
    """Every regular file under its directory ('' for the root), parents listed too."""
    for path, member in index.files.items():
        parent, _, name = path.rpartition("/")
        index.directories.setdefault(parent, {})[name] = member
    for path in list(index.directories):
        for parent in _parents(path):
            index.directories.setdefault(parent, {})
    index.directories.setdefault("", {})
