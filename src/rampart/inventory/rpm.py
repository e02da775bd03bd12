"""The rpm extractor: packages of RPM-based systems from rpm's SQLite database (``rpmdb.sqlite``).

RHEL 9, Fedora 33+ and Amazon Linux 2023 keep it in ``var/lib/rpm`` (Fedora 36+ in
``usr/lib/sysimage/rpm``, linked from ``var/lib/rpm``). Older Berkeley DB and ``ndb`` databases are not
read.

* The file is copied (at most ``MAX_DB_SIZE`` bytes) from the target into a private temporary file and
  opened read-only and immutable (a ``-wal`` file beside it is not read); the database must hold a
  ``Packages`` table, whose rows are header blobs. SQLite's work is bounded (``MAX_SQLITE_STEPS``).
* Each blob is an rpm header: entry count and data size (big-endian 32-bit, optionally after the
  ``8e ad e8 01`` magic and 4 reserved bytes), that many 16-byte entries (tag, type, offset, count) and
  the data store. The counts must add up to exactly the blob's size and every value read must lie
  inside the data store; only NAME, EPOCH, VERSION, RELEASE, ARCH, LICENSE and SOURCERPM are read.
* Version: ``[EPOCH:]VERSION-RELEASE`` (the epoch only when set and not 0). Source name and version come
  from SOURCERPM (``openssl-3.0.7-27.el9.src.rpm``; the binary's epoch applies); without it the
  package is its own source. ``gpg-pubkey`` entries (imported keys, not packages) are skipped.
* Ecosystem, from os-release: ``rhel`` -> ``Red Hat:enterprise_linux:MAJOR`` (Red Hat's advisories
  add a ``::stream`` suffix to this), ``almalinux`` -> ``AlmaLinux:MAJOR``, ``rocky`` ->
  ``Rocky Linux:MAJOR``, ``fedora`` -> ``Fedora:VERSION``, ``amzn`` -> ``Amazon Linux:VERSION``;
  any other or unknown system gets the bare ``RPM``.
* A malformed header is one per-file error (counted, first reason given); the other packages are kept.
"""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory.base import ExtractContext
from rampart.model import OsRelease, Package
from rampart.target.base import FileInfo, Target
from rampart.versions.base import InvalidVersion
from rampart.versions.rpm import rpm_key

PATHS = frozenset({"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"})
MAX_DB_SIZE = 1024 * 1024 * 1024
MAX_HEADER_SIZE = 64 * 1024 * 1024
MAX_PACKAGES = 100_000
MAX_INDEX_ENTRIES = 0xFFFF
MAX_SQLITE_STEPS = 200_000
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_COPY_CHUNK = 1024 * 1024

NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1014, 1022, 1044
INT32, STRING, I18NSTRING = 4, 6, 9
_STRING_TAGS = frozenset({NAME, VERSION, RELEASE, LICENSE, ARCH, SOURCERPM})
_MAJOR_ONLY = {"rhel": "Red Hat:enterprise_linux", "almalinux": "AlmaLinux", "rocky": "Rocky Linux"}
_FULL_VERSION = {"fedora": "Fedora", "amzn": "Amazon Linux"}


@dataclass(frozen=True)
class RpmHeader:
    """The fields of one package header rampart uses (strings are empty when the tag is absent)."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    license: str
    source_rpm: str

    @property
    def evr(self) -> str:
        """``[EPOCH:]VERSION-RELEASE``, the epoch only when set and not 0."""
        prefix = f"{self.epoch}:" if self.epoch else ""
        return f"{prefix}{self.version}-{self.release}"


def ecosystem_for(os_release: OsRelease | None) -> str:
    """The ecosystem of rpm packages on a target with this OS (see the module docstring)."""
    if os_release is None or not os_release.version_id:
        return "RPM"
    if os_release.id in _MAJOR_ONLY:
        return f"{_MAJOR_ONLY[os_release.id]}:{os_release.version_id.split('.')[0]}"
    if os_release.id in _FULL_VERSION:
        return f"{_FULL_VERSION[os_release.id]}:{os_release.version_id}"
    return "RPM"


# --- header blobs -------------------------------------------------------------------------------------


def _layout(blob: bytes) -> tuple[int, int, int]:
    """(entry count, index start, data start) of a header blob whose counts fit its size exactly."""
    start = 8 if blob[:4] == HEADER_MAGIC else 0
    if len(blob) < start + 8:
        raise ParseError(f"header is truncated ({len(blob)} bytes)")
    count, data_size = struct.unpack_from(">II", blob, start)
    if count == 0 or count > MAX_INDEX_ENTRIES:
        raise ParseError(f"header claims {count} index entries")
    expected = start + 8 + 16 * count + data_size
    if expected != len(blob):
        raise ParseError(f"header claims {expected} bytes but has {len(blob)}")
    return count, start + 8, start + 8 + 16 * count


def _string(data: bytes, tag: int, kind: int, offset: int, count: int) -> str:
    if kind not in (STRING, I18NSTRING) or count < 1:
        raise ParseError(f"tag {tag} is not a string (type {kind}, count {count})")
    end = data.find(b"\x00", offset) if offset < len(data) else -1
    if end < 0:
        raise ParseError(f"tag {tag} at offset {offset} runs past the {len(data)}-byte data store")
    return data[offset:end].decode("utf-8", errors="replace")


def _int32(data: bytes, tag: int, kind: int, offset: int, count: int) -> int:
    if kind != INT32 or count < 1:
        raise ParseError(f"tag {tag} is not a 32-bit integer (type {kind}, count {count})")
    if offset + 4 > len(data):
        raise ParseError(f"tag {tag} at offset {offset} runs past the {len(data)}-byte data store")
    value: int = struct.unpack_from(">I", data, offset)[0]
    return value


def header_values(blob: bytes) -> dict[int, str | int]:
    """The wanted tags of a header blob; raises ParseError for any inconsistency found."""
    _, index, data_start = _layout(blob)
    data = blob[data_start:]
    values: dict[int, str | int] = {}
    for tag, kind, offset, number in struct.iter_unpack(">iIiI", blob[index:data_start]):
        if not 0 <= offset <= len(data):
            raise ParseError(f"tag {tag} has offset {offset} outside the {len(data)}-byte data store")
        if tag in _STRING_TAGS:
            values.setdefault(tag, _string(data, tag, kind, offset, number))
        elif tag == EPOCH:
            values.setdefault(tag, _int32(data, tag, kind, offset, number))
    return values


def read_header(blob: bytes) -> RpmHeader:
    """The RpmHeader of a blob; raises ParseError when it is malformed or lacks name/version/release."""
    values = header_values(blob)
    texts = {tag: str(values.get(tag, "")) for tag in _STRING_TAGS}
    if not texts[NAME] or not texts[VERSION] or not texts[RELEASE]:
        raise ParseError("header has no NAME, VERSION or RELEASE")
    epoch = values.get(EPOCH)
    return RpmHeader(
        texts[NAME],
        texts[VERSION],
        texts[RELEASE],
        epoch if isinstance(epoch, int) else None,
        texts[ARCH],
        texts[LICENSE],
        texts[SOURCERPM],
    )


def source_of(header: RpmHeader) -> tuple[str, str]:
    """(source name, source EVR) from SOURCERPM, or the package's own when it is absent or unreadable."""
    stem = header.source_rpm.removesuffix(".rpm")
    stem = stem.removesuffix(".src").removesuffix(".nosrc")
    parts = stem.rsplit("-", 2)
    if stem == header.source_rpm or len(parts) != 3 or not all(parts):
        return header.name, header.evr
    prefix = f"{header.epoch}:" if header.epoch else ""
    return parts[0], f"{prefix}{parts[1]}-{parts[2]}"


# --- the SQLite database ------------------------------------------------------------------------------


def copy_capped(target: Target, path: str, destination: Path) -> None:
    """Copy a target file to ``destination``; raises LimitExceeded past ``MAX_DB_SIZE`` bytes."""
    copied = 0
    with target.open(path) as source, destination.open("wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            copied += len(chunk)
            if copied > MAX_DB_SIZE:
                raise LimitExceeded(f"rpm database is larger than {MAX_DB_SIZE} bytes")
            out.write(chunk)


def _connect(path: Path) -> sqlite3.Connection:
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise ParseError("not an SQLite database")
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
    steps = [0]

    def progress() -> int:
        steps[0] += 1
        return 1 if steps[0] > MAX_SQLITE_STEPS else 0

    connection.set_progress_handler(progress, 1000)
    return connection


def iter_blobs(connection: sqlite3.Connection) -> Generator[tuple[int, bytes | str]]:
    """(row id, blob or why it was not read) for each row of the ``Packages`` table."""
    kind = connection.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
    if kind is None or kind[0] != "table":
        raise ParseError("rpm database has no Packages table")
    rows = connection.execute(
        "SELECT hnum, CASE WHEN length(blob) <= ? THEN blob END, length(blob) FROM Packages",
        (MAX_HEADER_SIZE,),
    )
    for number, (hnum, blob, size) in enumerate(rows, start=1):
        if number > MAX_PACKAGES:
            raise LimitExceeded(f"rpm database holds more than {MAX_PACKAGES} packages")
        yield hnum, blob if isinstance(blob, bytes) else _why_unread(size)


def _why_unread(size: object) -> str:
    if isinstance(size, int) and size > MAX_HEADER_SIZE:
        return f"header of {size} bytes is larger than {MAX_HEADER_SIZE}"
    return "header is not a blob"


def read_database(path: Path) -> Generator[tuple[int, bytes | str]]:
    """The rows of an rpmdb.sqlite file; raises ParseError/LimitExceeded for an unusable database."""
    connection = _connect(path)
    try:
        yield from iter_blobs(connection)
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            raise LimitExceeded("rpm database needs too much work to read") from None
        raise ParseError(f"unreadable rpm database: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise ParseError(f"unreadable rpm database: {exc}") from None
    finally:
        connection.close()


class RpmExtractor:
    """Reads rpm's SQLite database of installed packages."""

    name = "rpm"

    directory_pattern = r"var/lib/rpm|usr/lib/sysimage/rpm"
    name_pattern = r"rpmdb\.sqlite"

    def wants(self, info: FileInfo) -> bool:
        return info.path in PATHS

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        if info.size > MAX_DB_SIZE:
            raise LimitExceeded(f"rpm database is larger than {MAX_DB_SIZE} bytes")
        with tempfile.TemporaryDirectory(prefix="rampart-rpmdb-") as directory:
            copy = Path(directory) / "rpmdb.sqlite"
            copy_capped(target, info.path, copy)
            packages, problems = self._packages(copy, info.path, ecosystem_for(context.os))
        if problems:
            context.add_error(info.path, f"{len(problems)} malformed header(s) skipped; first: {problems[0]}")
        return packages

    def _packages(self, copy: Path, path: str, ecosystem: str) -> tuple[list[Package], list[str]]:
        packages: list[Package] = []
        problems: list[str] = []
        with closing(read_database(copy)) as rows:
            for hnum, blob in rows:
                try:
                    package = self._package(blob, path, ecosystem)
                except ParseError as exc:
                    problems.append(f"package {hnum}: {exc.message}")
                    continue
                if package is not None:
                    packages.append(package)
        return packages, problems

    def _package(self, blob: bytes | str, path: str, ecosystem: str) -> Package | None:
        if isinstance(blob, str):
            raise ParseError(blob)
        header = read_header(blob)
        if header.name == "gpg-pubkey":
            return None
        source_name, source_version = source_of(header)
        for evr in (header.evr, source_version):
            _check_evr(evr)
        return Package(header.name, header.evr, ecosystem, "/" + path, self.name, source_name, source_version)


def _check_evr(evr: str) -> None:
    try:
        rpm_key(evr)
    except InvalidVersion as exc:
        raise ParseError(exc.message) from None


# --- file lists (used by fim's package awareness, not by the extractor) ---------------------------------

DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTS, FILEFLAGS, FILEDIGESTALGO = 1116, 1117, 1118, 1035, 1037, 5011
STRING_ARRAY = 8
RPMFILE_CONFIG = 1
_FILE_TAGS = frozenset({DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTS, FILEFLAGS, FILEDIGESTALGO})


@dataclass(frozen=True)
class RpmFile:
    """One file a package header lists: absolute path, hex digest ("" for directories and links), flags."""

    path: bytes
    digest: str
    flags: int


def _strings(data: bytes, tag: int, kind: int, offset: int, count: int) -> list[bytes]:
    if kind not in (STRING, STRING_ARRAY) or count > len(data):
        raise ParseError(f"tag {tag} is not a string array (type {kind}, count {count})")
    values: list[bytes] = []
    for _ in range(count):
        end = data.find(b"\x00", offset)
        if end < 0:
            raise ParseError(f"tag {tag} runs past the {len(data)}-byte data store")
        values.append(data[offset:end])
        offset = end + 1
    return values


def _int32s(data: bytes, tag: int, kind: int, offset: int, count: int) -> list[int]:
    if kind != INT32 or offset + 4 * count > len(data):
        raise ParseError(f"tag {tag} is not a 32-bit integer array inside the data store")
    return list(struct.unpack_from(f">{count}I", data, offset))


def _file_tags(blob: bytes) -> tuple[dict[int, list[bytes]], dict[int, list[int]]]:
    """(string-array tags, integer-array tags) of the file lists of a header blob."""
    _, index, data_start = _layout(blob)
    data = blob[data_start:]
    texts: dict[int, list[bytes]] = {}
    numbers: dict[int, list[int]] = {}
    for tag, kind, offset, count in struct.iter_unpack(">iIiI", blob[index:data_start]):
        if tag not in _FILE_TAGS or tag in texts or tag in numbers:
            continue
        if not 0 <= offset <= len(data):
            raise ParseError(f"tag {tag} has offset {offset} outside the {len(data)}-byte data store")
        if tag in (BASENAMES, DIRNAMES, FILEDIGESTS):
            texts[tag] = _strings(data, tag, kind, offset, count)
        else:
            numbers[tag] = _int32s(data, tag, kind, offset, count)
    return texts, numbers


def header_files(blob: bytes) -> tuple[int, list[RpmFile]]:
    """(FILEDIGESTALGO, default 1 = MD5; the files of the header); raises ParseError on inconsistent lists."""
    texts, numbers = _file_tags(blob)
    names, dirs, digests = texts.get(BASENAMES, []), texts.get(DIRNAMES, []), texts.get(FILEDIGESTS, [])
    indexes, flags = numbers.get(DIRINDEXES, []), numbers.get(FILEFLAGS, [])
    if len(indexes) != len(names) or {len(digests), len(flags)} - {0, len(names)}:
        raise ParseError("header's file lists have different lengths")
    files: list[RpmFile] = []
    for number, (name, index) in enumerate(zip(names, indexes, strict=True)):
        if index >= len(dirs):
            raise ParseError(f"file {number} names directory {index} of {len(dirs)}")
        digest = digests[number].decode("ascii", "replace") if digests else ""
        files.append(RpmFile(dirs[index] + name, digest, flags[number] if flags else 0))
    algorithms = numbers.get(FILEDIGESTALGO) or [1]
    return algorithms[0], files
