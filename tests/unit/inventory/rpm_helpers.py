"""Builders of rpm header blobs and rpmdb.sqlite files, written from the header format for tests."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from rampart.inventory.rpm import ARCH, EPOCH, LICENSE, NAME, RELEASE, SOURCERPM, VERSION

REGION, BIN, INT32, STRING = 63, 7, 4, 6
Entry = tuple[int, int, bytes, int]  # tag, type, encoded value, count


def string(tag: int, value: str) -> Entry:
    return (tag, STRING, value.encode() + b"\x00", 1)


def int32(tag: int, value: int) -> Entry:
    return (tag, INT32, struct.pack(">I", value), 1)


def package_entries(
    name: str,
    version: str,
    release: str,
    *,
    epoch: int | None = None,
    arch: str = "x86_64",
    license: str = "MIT",
    source_rpm: str | None = None,
) -> list[Entry]:
    """The entries of an ordinary binary package's header."""
    entries = [
        string(NAME, name),
        string(VERSION, version),
        string(RELEASE, release),
        string(LICENSE, license),
    ]
    entries += [string(ARCH, arch)] if arch else []
    entries += [int32(EPOCH, epoch)] if epoch is not None else []
    source = f"{name}-{version}-{release}.src.rpm" if source_rpm is None else source_rpm
    entries += [string(SOURCERPM, source)] if source else []
    return entries


def header_blob(entries: list[Entry], *, magic: bool = False) -> bytes:
    """A header as rpm stores it in its database: counts, sorted index (region entry first), data store."""
    data = bytearray()
    index: list[bytes] = []
    for tag, kind, value, count in sorted(entries, key=lambda e: e[0]):
        if kind == INT32:
            data += b"\x00" * (-len(data) % 4)
        index.append(struct.pack(">iIiI", tag, kind, len(data), count))
        data += value
    total = len(index) + 1
    index.insert(0, struct.pack(">iIiI", REGION, BIN, len(data), 16))
    data += struct.pack(">iIiI", REGION, BIN, -16 * total, 16)
    prefix = b"\x8e\xad\xe8\x01\x00\x00\x00\x00" if magic else b""
    return prefix + struct.pack(">II", total, len(data)) + b"".join(index) + bytes(data)


def raw_blob(count: int, data_size: int, index: bytes = b"", data: bytes = b"") -> bytes:
    """A header blob with the given (possibly lying) counts and exactly the given bytes after them."""
    return struct.pack(">II", count, data_size) + index + data


def write_rpmdb(path: Path, blobs: list[object]) -> Path:
    """An rpmdb.sqlite with rpm's Packages table holding ``blobs`` (any SQLite values) in order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
        )
        connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    connection.close()
    return path
