"""Zip bundles for the tests: ordinary ones through zipfile, hostile ones from raw zip structures."""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

Entries = list[tuple[str, bytes]]


def write_zip(path: Path, entries: Entries, method: int = zipfile.ZIP_DEFLATED, zip64: bool = False) -> Path:
    """A zip of ``entries`` in order (duplicates allowed) written with zipfile."""
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", method) as archive:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name
        for name, data in entries:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            info.compress_type = method
            with archive.open(info, "w", force_zip64=zip64) as handle:
                handle.write(data)
    return path


def symlink(archive_path: Path, name: str, target: str) -> None:
    """Append a Unix symbolic link member ``name`` -> ``target``."""
    info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive_path, "a") as archive:
        archive.writestr(info, target)


def jar(entries: Entries) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def pom(group: str, artifact: str, version: str) -> tuple[str, bytes]:
    body = f"groupId={group}\nartifactId={artifact}\nversion={version}\n"
    return f"META-INF/maven/{group}/{artifact}/pom.properties", body.encode()


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nlong description\n".encode()


def package_json(name: str, version: str) -> bytes:
    return f'{{"name": "{name}", "version": "{version}"}}'.encode()


@dataclass
class Raw:
    """One member written by hand: its name bytes, stored data, and the sizes/flags/method to declare."""

    name: bytes
    data: bytes
    flags: int = 0
    method: int = 0
    declared_size: int | None = None
    local_of: int | None = None  # point the central entry at an earlier member's local header


def raw_zip(members: list[Raw]) -> bytes:
    """A zip whose central directory says exactly what ``members`` say, true or not."""
    out, offsets = bytearray(), []
    for member in members:
        offsets.append(len(out))
        if member.local_of is None:
            out += _header(b"PK\x03\x04", member, None) + member.name + member.data
    directory = len(out)
    for index, member in enumerate(members):
        offset = offsets[member.local_of] if member.local_of is not None else offsets[index]
        out += _header(b"PK\x01\x02", member, offset) + member.name
    size = len(out) - directory
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), size, directory, 0)
    return bytes(out)


def _header(signature: bytes, member: Raw, offset: int | None) -> bytes:
    crc = zlib.crc32(member.data)
    size = len(member.data) if member.declared_size is None else member.declared_size
    common = (member.flags, member.method, 0, 0x5821, crc, len(member.data), size, len(member.name), 0)
    if offset is None:
        return struct.pack("<4sH4H3L2H", signature, 20, *common)
    tail = (0, 0, 0, (stat.S_IFREG | 0o644) << 16, offset)
    return struct.pack("<4s2H4H3L2H3H2L", signature, 0x0314, 20, *common, *tail)
