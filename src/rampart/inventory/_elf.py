"""Just enough of an ELF reader to find a named section and read bytes by file offset or virtual address.

Every offset and size the file claims is checked against the real file size before anything is read,
and the section count and string table size are capped, so a lying header gives a ParseError, never a
huge allocation or a crash.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import BinaryIO

from rampart.errors import LimitExceeded, ParseError

MAGIC = b"\x7fELF"
MAX_SECTIONS = 16384
MAX_STRTAB = 1024 * 1024
SHT_NOBITS = 8
_HEADER = {1: ("HHIIIIIHHHHHH", 16), 2: ("HHIQQQIHHHHHH", 16)}
_SECTION = {1: "IIIIIIIIII", 2: "IIQQQQIIQQ"}


@dataclass(frozen=True)
class Section:
    """One section header: name, type, virtual address, file offset and size."""

    name: str
    type: int
    addr: int
    offset: int
    size: int


class ElfFile:
    """An ELF file's section table, read from an open file of known size."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.size = size
        ident = self.read(0, 16)
        if ident[4] not in _HEADER or ident[5] not in (1, 2):
            raise ParseError("ELF header has an unknown class or byte order")
        self.bits64 = ident[4] == 2
        self.endian = "<" if ident[5] == 1 else ">"
        self.ptr_size = 8 if self.bits64 else 4
        self._raw, self._names = self._read_section_table()

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset``; ParseError when they lie outside the file."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ParseError(f"ELF data at offset {offset} (+{size} bytes) lies outside the file")
        self.handle.seek(offset)
        data = self.handle.read(size)
        if len(data) != size:
            raise ParseError("ELF file is truncated")
        return data

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        fmt = self.endian + fmt
        return struct.unpack(fmt, self.read(offset, struct.calcsize(fmt)))

    def _read_section_table(self) -> tuple[list[tuple[int, ...]], bytes]:
        """The raw section headers (one read) and the section name string table."""
        fmt, at = _HEADER[2 if self.bits64 else 1]
        fields = self._unpack(fmt, at)
        shoff, shentsize, shnum, shstrndx = fields[5], fields[10], fields[11], fields[12]
        if shoff == 0:
            return [], b""
        raw = self._raw_sections(shoff, shentsize, shnum)
        if shstrndx >= len(raw):
            raise ParseError("ELF section name table index is out of range")
        return raw, self._strtab(raw[shstrndx])

    @cached_property
    def sections(self) -> list[Section]:
        """Every section header, named."""
        return [Section(_name(self._names, r[0]), r[1], r[3], r[4], r[5]) for r in self._raw]

    def _raw_sections(self, shoff: int, entsize: int, count: int) -> list[tuple[int, ...]]:
        fmt = struct.Struct(self.endian + _SECTION[2 if self.bits64 else 1])
        if entsize < fmt.size:
            raise ParseError("ELF section header entries are too small")
        if count > MAX_SECTIONS:
            raise LimitExceeded(f"ELF file has more than {MAX_SECTIONS} sections")
        table = self.read(shoff, entsize * count)
        return [fmt.unpack_from(table, i * entsize) for i in range(count)]

    def _strtab(self, header: tuple[int, ...]) -> bytes:
        offset, size = header[4], header[5]
        if size > MAX_STRTAB:
            raise LimitExceeded("ELF section name table is too large")
        return self.read(offset, size)

    def section(self, name: str) -> Section | None:
        """The first section called ``name``, if any (a name absent from the string table is answered at once)."""
        if name.encode("ascii", "replace") + b"\x00" not in self._names:
            return None
        return next((s for s in self.sections if s.name == name), None)

    def read_address(self, addr: int, size: int) -> bytes:
        """``size`` bytes at virtual address ``addr``, from the file-backed section holding them."""
        for section in self.sections:
            inside = section.addr <= addr and addr + size <= section.addr + section.size
            if inside and section.type != SHT_NOBITS and section.addr:
                return self.read(section.offset + addr - section.addr, size)
        raise ParseError(f"ELF address {addr:#x} is not in any section of the file")


def _name(table: bytes, offset: int) -> str:
    end = table.find(b"\x00", offset)
    if offset >= len(table) or end < 0:
        return ""
    return table[offset:end].decode("ascii", errors="replace")


def open_elf(handle: BinaryIO) -> ElfFile | None:
    """The ELF view of an open file, or None when the file does not start with the ELF magic."""
    if handle.read(4) != MAGIC:
        return None
    size = handle.seek(0, 2)
    return ElfFile(handle, size)
