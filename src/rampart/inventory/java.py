"""The Java archive extractor: Maven packages inside ``.jar``/``.war``/``.ear``/``.par`` files.

Every ``META-INF/maven/<group>/<artifact>/pom.properties`` of an archive gives one package (ecosystem
``Maven``, name ``group:artifact``). Only an archive holding no pom.properties falls back to its
``META-INF/MANIFEST.MF`` (Bundle-SymbolicName or Implementation-Title, Implementation-Version or
Bundle-Version): that is a guess with no group, so its package is named without one and marked with the
extractor name ``java-manifest``. Archives inside archives (``WEB-INF/lib``, ``BOOT-INF/lib``, jars in
ears) are read from memory, recursively, within caps on depth, entries, bytes read and compression ratio.
A bad nested archive or entry is a per-file error named ``outer.war!/WEB-INF/lib/x.jar``; the rest of the
archive is still read. Locations are the outer path plus ``!/`` and the nested path.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory.base import ExtractContext
from rampart.model import Package
from rampart.target.base import FileInfo, Target

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par")
MAX_DEPTH = 4
MAX_ARCHIVE = 256 * 1024 * 1024  # a non-seekable stream is copied to memory up to this
MAX_NESTED = 128 * 1024 * 1024  # one nested archive, uncompressed
MAX_TOTAL = 512 * 1024 * 1024  # all bytes decompressed for one outer archive
MAX_ENTRIES = 200_000  # entries across one outer archive and everything inside it
MAX_RATIO = 200  # uncompressed / compressed size of any entry read
MAX_METADATA = 1024 * 1024  # one pom.properties or MANIFEST.MF

_POM = re.compile(r"META-INF/maven/([^/]+)/([^/]+)/pom\.properties")
_MANIFEST = "META-INF/MANIFEST.MF"
_PROPERTY = re.compile(r"([^=:\s]+)\s*[=:\s]?\s*(.*)")
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}\Z")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}\Z")


@dataclass
class Budget:
    """What one outer archive may still cost: entries listed and bytes decompressed."""

    entries: int
    total: int

    def count(self, entries: int) -> None:
        self.entries -= entries
        if self.entries < 0:
            raise LimitExceeded(f"archive holds more than {MAX_ENTRIES} entries in all")

    def charge(self, size: int) -> None:
        self.total -= size
        if self.total < 0:
            raise LimitExceeded(f"archive decompresses to more than {MAX_TOTAL} bytes in all")


_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def declared_entries(handle: BinaryIO) -> int | None:
    """The entry count an archive's end records declare (zip64 too), read before zipfile lists them."""
    size = handle.seek(0, io.SEEK_END)
    handle.seek(max(0, size - 65557))
    tail = handle.read()
    end = tail.rfind(_EOCD)
    if end < 0 or len(tail) < end + 22:
        return None
    count = struct.unpack_from("<H", tail, end + 10)[0]
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
        handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = handle.read(40)
        if len(record) == 40 and record[:4] == _ZIP64_EOCD:
            count = struct.unpack_from("<Q", record, 32)[0]
    return int(count)


def open_zip(handle: BinaryIO, budget: Budget) -> zipfile.ZipFile:
    """A ZipFile, once the declared entry count fits the budget (so a huge listing is never built)."""
    declared = declared_entries(handle)
    if declared is not None and declared > budget.entries:
        raise LimitExceeded(f"archive holds more than {MAX_ENTRIES} entries in all")
    handle.seek(0)
    return zipfile.ZipFile(handle)


def is_archive_name(path: str) -> bool:
    """Whether a file or entry name is a Java archive by its suffix (any case)."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int, budget: Budget) -> bytes:
    """An entry's bytes, refusing over-size, over-ratio (zip bomb) and lying headers."""
    if entry.file_size > limit:
        raise LimitExceeded(f"entry is larger than the {limit}-byte limit")
    if entry.file_size > MAX_RATIO * max(entry.compress_size, 1) + 1024:
        raise LimitExceeded(f"entry compression ratio is over {MAX_RATIO} (zip bomb?)")
    budget.charge(entry.file_size)
    with archive.open(entry) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise LimitExceeded(f"entry is larger than the {limit}-byte limit")
    return data


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties`` key -> value (``=`` or ``:`` separated; comments and continuations ignored)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        match = _PROPERTY.match(raw.strip())
        if match is not None and not match.group(1).startswith(("#", "!")):
            values.setdefault(match.group(1), match.group(2).strip())
    return values


def parse_manifest(text: str) -> dict[str, str]:
    """The main section of a MANIFEST.MF: header (lower-cased) -> value, continuation lines joined."""
    headers: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line:
            break
        if line.startswith(" ") and last:
            headers[last] += line[1:]
            continue
        name, sep, value = line.partition(":")
        if sep:
            last = name.strip().lower()
            headers.setdefault(last, value.strip())
    return headers


def _decode(data: bytes, what: str) -> str:
    if b"\x00" in data:
        raise ParseError(f"{what} holds binary data")
    return data.decode("utf-8", errors="replace")


def _pom_package(data: bytes, match: re.Match[str], location: str) -> Package:
    values = parse_properties(_decode(data, "pom.properties"))
    group = values.get("groupId") or match.group(1)
    artifact = values.get("artifactId") or match.group(2)
    version = values.get("version", "")
    if not _ID.match(group) or not _ID.match(artifact):
        raise ParseError("pom.properties has an invalid groupId or artifactId")
    if not _VERSION.match(version):
        raise ParseError("pom.properties has no valid version")
    return Package(f"{group}:{artifact}", version, "Maven", location, "java")


def _manifest_package(data: bytes, location: str) -> Package | None:
    headers = parse_manifest(_decode(data, "MANIFEST.MF"))
    symbolic = headers.get("bundle-symbolicname", "").split(";")[0].strip()
    names = [n for n in (symbolic, headers.get("implementation-title", "")) if _ID.match(n)]
    versions = [headers.get("implementation-version", ""), headers.get("bundle-version", "")]
    versions = [v for v in versions if _VERSION.match(v)]
    if not names or not versions:
        return None
    return Package(names[0], versions[0], "Maven", location, "java-manifest")


@dataclass
class _Reader:
    """Reads one outer archive and the archives inside it."""

    outer: str
    context: ExtractContext
    budget: Budget

    def archive(self, archive: zipfile.ZipFile, inner: str, depth: int) -> list[Package]:
        entries = archive.infolist()
        self.budget.count(len(entries))
        location = "/" + self.outer + inner
        packages = list(self._poms(archive, entries, inner, location))
        if not packages:
            packages = self._manifest(archive, inner, location)
        for entry in entries:
            if is_archive_name(entry.filename) and not entry.is_dir():
                packages.extend(self._nested(archive, entry, inner, depth))
        return packages

    def _poms(
        self, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], inner: str, location: str
    ) -> Iterator[Package]:
        for entry in entries:
            match = _POM.fullmatch(entry.filename)
            if match is None:
                continue
            try:
                yield _pom_package(_read_entry(archive, entry, MAX_METADATA, self.budget), match, location)
            except (ParseError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                self._error(inner, entry.filename, exc)

    def _manifest(self, archive: zipfile.ZipFile, inner: str, location: str) -> list[Package]:
        try:
            entry = archive.getinfo(_MANIFEST)
        except KeyError:
            return []
        try:
            package = _manifest_package(_read_entry(archive, entry, MAX_METADATA, self.budget), location)
        except (ParseError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            self._error(inner, _MANIFEST, exc)
            return []
        return [package] if package else []

    def _nested(
        self, archive: zipfile.ZipFile, entry: zipfile.ZipInfo, inner: str, depth: int
    ) -> list[Package]:
        if depth >= MAX_DEPTH:
            self._error(inner, entry.filename, LimitExceeded(f"archives are nested deeper than {MAX_DEPTH}"))
            return []
        nested = f"{inner}!/{entry.filename}"
        try:
            data = _read_entry(archive, entry, MAX_NESTED, self.budget)
            with open_zip(io.BytesIO(data), self.budget) as inside:
                return self.archive(inside, nested, depth + 1)
        except (ParseError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            self._error(inner, entry.filename, exc)
            return []

    def _error(self, inner: str, name: str, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, ParseError) else f"{type(exc).__name__}: {exc}"
        self.context.add_error(f"{self.outer}{inner}!/{name}", "java: " + " ".join(message.split())[:300])


def _seekable(handle: BinaryIO) -> BinaryIO:
    """The handle itself when it can seek, else its bytes in memory (up to MAX_ARCHIVE)."""
    if handle.seekable():
        return handle
    data = handle.read(MAX_ARCHIVE + 1)
    if len(data) > MAX_ARCHIVE:
        raise LimitExceeded(f"archive is larger than the {MAX_ARCHIVE}-byte limit")
    return io.BytesIO(data)


class JavaArchiveExtractor:
    """Reads Maven metadata from Java archives, nested ones included."""

    name = "java"
    directory_pattern = r".*"
    name_pattern = r"(?i:.+\.(?:jar|war|ear|par))"

    def wants(self, info: FileInfo) -> bool:
        return is_archive_name(info.path)

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        reader = _Reader(info.path, context, Budget(MAX_ENTRIES, MAX_TOTAL))
        with target.open(info.path) as handle:
            try:
                with open_zip(_seekable(handle), reader.budget) as archive:
                    return reader.archive(archive, "", 0)
            except (zipfile.BadZipFile, EOFError, ValueError, RuntimeError) as exc:
                raise ParseError(f"not a readable zip archive: {exc}") from None
