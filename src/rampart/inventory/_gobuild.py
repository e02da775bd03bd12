"""Decoding the build information Go embeds in its binaries (the ``.go.buildinfo`` section).

The section starts (16-byte aligned) with a 32-byte header: the magic ``\\xff Go buildinf:``, the pointer
size, and flags. Go >= 1.18 sets flag 2 and stores the Go version and the module info text inline after the
header as varint-length-prefixed strings; older binaries store two pointers to Go string headers, which are
followed through the ELF's sections (flag 1 means big-endian). The module info text is framed by 16-byte
sentinels and holds ``path``, ``mod``, ``dep`` and ``=>`` (replacement) lines, tab-separated.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory._elf import ElfFile

MAGIC = b"\xff Go buildinf:"
SECTION = ".go.buildinfo"
MAX_SECTION = 16 * 1024 * 1024
MAX_STRING = 4 * 1024 * 1024
FLAG_BIG_ENDIAN = 1
FLAG_INLINE = 2
_MODULE_PATH = re.compile(r"^[A-Za-z0-9._~+/-]{1,512}$")
_MODULE_VERSION = re.compile(r"^[A-Za-z0-9._+()-]{0,256}$")


@dataclass(frozen=True)
class Module:
    """A module the binary was built from: path and version as recorded (``v1.2.3``; may be empty)."""

    path: str
    version: str


@dataclass(frozen=True)
class BuildInfo:
    """The Go version (``go1.20.3``), the main module (if recorded) and the deps, replacements applied."""

    go_version: str
    main: Module | None
    deps: tuple[Module, ...]


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ParseError("Go build info has a truncated length")


def _inline_string(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = _uvarint(data, pos)
    if length > MAX_STRING:
        raise LimitExceeded("Go build info string is too long")
    if pos + length > len(data):
        raise ParseError("Go build info string runs past the end of its section")
    return data[pos : pos + length], pos + length


def _pointer_string(elf: ElfFile, header_addr: int, ptr_size: int, endian: str) -> bytes:
    fmt = endian + ("Q" if ptr_size == 8 else "I") * 2
    data_addr, length = struct.unpack(fmt, elf.read_address(header_addr, 2 * ptr_size))
    if length > MAX_STRING:
        raise LimitExceeded("Go build info string is too long")
    return elf.read_address(data_addr, length)


def _pointer_strings(elf: ElfFile, header: bytes, flags: int) -> tuple[bytes, bytes]:
    ptr_size = header[14]
    if ptr_size not in (4, 8):
        raise ParseError(f"Go build info has an invalid pointer size {ptr_size}")
    endian = ">" if flags & FLAG_BIG_ENDIAN else "<"
    fmt = endian + ("Q" if ptr_size == 8 else "I") * 2
    version_addr, mod_addr = struct.unpack(fmt, header[16 : 16 + 2 * ptr_size])
    return (
        _pointer_string(elf, version_addr, ptr_size, endian),
        _pointer_string(elf, mod_addr, ptr_size, endian),
    )


def _find_header(data: bytes) -> int:
    pos = data.find(MAGIC)
    while pos >= 0 and pos % 16:
        pos = data.find(MAGIC, pos + 1)
    if pos < 0 or pos + 32 > len(data):
        raise ParseError("Go build info section has no build info header")
    return pos


def _strings(elf: ElfFile, data: bytes) -> tuple[bytes, bytes]:
    pos = _find_header(data)
    flags = data[pos + 15]
    if flags & FLAG_INLINE:
        version, after = _inline_string(data, pos + 32)
        return version, _inline_string(data, after)[0]
    return _pointer_strings(elf, data[pos : pos + 32], flags)


def _unframe(mod: str) -> str:
    if len(mod) >= 33 and mod[-17] == "\n":
        return mod[16:-16]
    return ""


def _module(fields: list[str]) -> Module:
    path = fields[1] if len(fields) > 1 else ""
    version = fields[2] if len(fields) > 2 else ""
    if not _MODULE_PATH.match(path) and not path.startswith((".", "/")):
        raise ParseError("Go build info names an invalid module path")
    if not _MODULE_VERSION.match(version):
        raise ParseError("Go build info has an invalid module version")
    return Module(path, version)


def parse_modinfo(text: str) -> tuple[Module | None, tuple[Module, ...]]:
    """The main module and the dependencies of a module info text, each ``=>`` replacing the line before."""
    main: Module | None = None
    deps: list[Module] = []
    last = ""
    for line in text.split("\n"):
        fields = line.split("\t")
        kind = fields[0]
        if kind == "=>" and last == "dep":
            deps[-1] = _module(fields)
        elif kind == "=>" and last == "mod":
            main = _module(fields)
        elif kind == "dep":
            deps.append(_module(fields))
        elif kind == "mod":
            main = _module(fields)
        last = kind if kind in ("mod", "dep") else last
    return main, tuple(deps)


def read_build_info(elf: ElfFile) -> BuildInfo | None:
    """The build info of a Go ELF binary; None when it has no ``.go.buildinfo`` section (not Go)."""
    section = elf.section(SECTION)
    if section is None:
        return None
    if section.size > MAX_SECTION:
        raise LimitExceeded("Go build info section is too large")
    version, mod = _strings(elf, elf.read(section.offset, section.size))
    main, deps = parse_modinfo(_unframe(mod.decode("utf-8", errors="replace")))
    return BuildInfo(version.decode("utf-8", errors="replace"), main, deps)
