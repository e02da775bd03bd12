"""A strict, streaming reader of layer tars: ustar, GNU and pax headers read, nothing extracted.

``tarfile`` in stream mode spends as long on a layer's headers as igzip spends inflating it; this reader
parses each 512-byte header with one ``struct`` unpack. It reads what image layers hold: ustar names with
their prefix, GNU long names and long link names (``L``/``K``), pax extended headers (``x``) and global ones
(``g``: ``path``, ``linkpath``, ``size``), base-256 numbers. Every header's checksum is checked (unsigned or
signed sums, as tar writers differ); a bad header, a negative size, a malformed pax record or data cut short
raises TarError, which ends the layer. A stream that stops between members without the zero block that ends
an archive is reported by ``ended`` staying False. GNU sparse files are kept as non-regular entries (never
read), and so are types this reader does not know; their stored data is passed over.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
REGULAR = frozenset({b"0", b"\0", b"7"})
DIRECTORY, SYMLINK, HARDLINK = b"5", b"2", b"1"
KNOWN = frozenset({*REGULAR, DIRECTORY, SYMLINK, HARDLINK, b"3", b"4", b"6"})
LONG_NAME, LONG_LINK, PAX, PAX_GLOBAL, SPARSE = b"L", b"K", b"x", b"g", b"S"
MAX_EXTENDED = 1 << 20
"""Longest GNU long name or pax header read (tarfile reads any; a layer has no business with more)."""
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12x")
_SIGNED = struct.Struct("148b8x356b")
_PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")
_SKIP_CHUNK = 1 << 20


class TarError(Exception):
    """The tar stream is damaged from here on; the message says how."""


@dataclass(slots=True)
class Member:
    """One entry: its normalised fields and the offset of its first header (the key of its bytes)."""

    name: str
    type: bytes
    size: int
    mode: int
    linkname: str
    offset: int
    uid: int | None = None
    gid: int | None = None

    def isreg(self) -> bool:
        return self.type in REGULAR

    def isdir(self) -> bool:
        return self.type == DIRECTORY

    def issym(self) -> bool:
        return self.type == SYMLINK

    def islnk(self) -> bool:
        return self.type == HARDLINK


def number(field: bytes) -> int:
    """A numeric header field: octal digits (NUL or space ended) or GNU base-256."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - 256 ** (len(field) - 1) if field[0] == 0xFF else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise TarError("invalid number in a tar header") from None


def text(field: bytes) -> str:
    """A NUL-ended string field, decoded as UTF-8 (undecodable bytes kept as surrogates, as tarfile does)."""
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def checksum_ok(block: bytes, stored: int) -> bool:
    unsigned = sum(block) - sum(block[148:156]) + 256
    return stored == unsigned or stored == sum(_SIGNED.unpack(block)) + 256


def parse_pax(data: bytes, headers: dict[str, str]) -> None:
    """Add the records of a pax extended header (``LEN key=value\\n``) to ``headers``."""
    pos = 0
    while pos < len(data) and data[pos] != 0:
        match = _PAX_RECORD.match(data, pos)
        if match is None:
            raise TarError("malformed pax extended header")
        length = int(match.group(1))
        end = pos + length
        if length < len(match.group(0)) + 1 or end > len(data) or data[end - 1 : end] != b"\n":
            raise TarError("malformed pax extended header")
        key = match.group(2).decode("utf-8", "surrogateescape")
        headers[key] = data[match.end() : end - 1].decode("utf-8", "surrogateescape")
        pos = end


class TarReader:
    """Members of a tar stream, in order; ``read_data`` gives the current member's bytes."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offset = 0
        self.ended = False
        self._globals: dict[str, str] = {}
        self._left = 0

    def _read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.offset += len(data)
        return data

    def _exactly(self, size: int) -> bytes:
        data = self._read(size)
        if len(data) != size:
            raise TarError("unexpected end of data")
        return data

    def _skip(self, size: int) -> None:
        while size > 0:
            got = len(self._read(min(size, _SKIP_CHUNK)))
            if got == 0:
                raise TarError("unexpected end of data")
            size -= got

    def _padded(self, size: int) -> int:
        return -(-size // BLOCK) * BLOCK

    def read_data(self, member: Member) -> bytes:
        """The bytes of ``member``, which must be the member ``next`` returned last (and read only once)."""
        if self._left != self._padded(member.size):
            raise TarError("member data already passed")
        data = self._exactly(member.size)
        self._left -= member.size
        return data

    def next(self) -> Member | None:
        """The next member, or None at the end (``ended`` says whether the end-of-archive block was seen)."""
        self._skip(self._left)
        self._left = 0
        start = self.offset
        extended: dict[str, str] = {}
        long_name = long_link = None
        while True:
            block = self._header_block(start)
            if block is None:
                return None
            fields = _HEADER.unpack(block)
            kind, size = fields[7], number(fields[4])
            if size < 0:
                raise TarError("negative size in a tar header")
            if kind == SPARSE:
                self._skip_sparse_maps(block)
            if kind in (LONG_NAME, LONG_LINK, PAX, PAX_GLOBAL):
                data = self._extended(size)
                if kind == LONG_NAME:
                    long_name = text(data)
                elif kind == LONG_LINK:
                    long_link = text(data)
                else:
                    parse_pax(data, self._globals if kind == PAX_GLOBAL else extended)
                continue
            return self._member(fields, start, {**self._globals, **extended}, long_name, long_link)

    def _header_block(self, start: int) -> bytes | None:
        block = self._read(BLOCK)
        if not block:
            if start == 0 and self.offset == 0:
                raise TarError("empty file")
            return None
        if len(block) < BLOCK:
            return None  # cut inside a header: no end-of-archive block
        if block == ZERO_BLOCK:
            self.ended = True
            return None
        if not checksum_ok(block, number(block[148:156])):
            raise TarError(f"bad checksum in the tar header at offset {self.offset - BLOCK}")
        return block

    def _skip_sparse_maps(self, block: bytes) -> None:
        """Pass over the extra sparse-map blocks an old GNU sparse header announces."""
        more = block[482]
        while more:
            more = self._exactly(BLOCK)[504]

    def _extended(self, size: int) -> bytes:
        if size > MAX_EXTENDED:
            raise TarError("oversized GNU long name or pax header")
        data = self._exactly(size)
        self._skip(self._padded(size) - size)
        return data

    def _member(
        self,
        fields: tuple[bytes, ...],
        start: int,
        pax: dict[str, str],
        long_name: str | None,
        long_link: str | None,
    ) -> Member:
        kind = fields[7]
        name = text(fields[0])
        prefix = text(fields[15])
        if prefix:
            name = prefix + "/" + name
        if kind == b"\0" and name.endswith("/"):
            kind = DIRECTORY
        name = pax.get("path", long_name if long_name is not None else name)
        if kind == DIRECTORY:
            name = name.rstrip("/")
        linkname = pax.get("linkpath", long_link if long_link is not None else text(fields[8]))
        size = number(fields[4])
        if "size" in pax:
            size = _pax_size(pax["size"])
        if kind == SPARSE or any(key.startswith("GNU.sparse.") for key in pax):
            kind = b"?"  # a sparse file: listed, never read
        if kind in REGULAR or kind not in KNOWN:
            self._left = self._padded(size)
        uid, gid = _owner(fields[2], pax.get("uid")), _owner(fields[3], pax.get("gid"))
        return Member(name, kind, size, number(fields[1]), linkname, start, uid, gid)


def _owner(field: bytes, pax: str | None) -> int | None:
    """A uid or gid (the pax record wins); None when it is unreadable, never an error (it was never needed)."""
    try:
        return int(pax) if pax is not None else number(field)
    except (TarError, ValueError):
        return None


def _pax_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise TarError("invalid size in a pax header") from None
    if size < 0:
        raise TarError("negative size in a pax header")
    return size
