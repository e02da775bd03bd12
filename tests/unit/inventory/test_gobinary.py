"""Go binary extractor: a real go1.19.8 binary, synthetic ELF files in both build info formats, hostile ELF."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from types import ModuleType

import pytest

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory import _elf
from rampart.inventory._gobuild import parse_modinfo
from rampart.inventory.base import ExtractContext
from rampart.inventory.gobinary import GoBinaryExtractor, stdlib_version
from rampart.model import Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gobinary" / "hello-go1.19.8"
REL = "usr/local/bin/tool"


def _extract(tmp_path: Path, data: bytes) -> list[Package]:
    path = tmp_path / REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return GoBinaryExtractor().extract(
        FileInfo(REL, len(data), 0o100755), DirectoryTarget(tmp_path), ExtractContext()
    )


def _names(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def test_wants_executables_only() -> None:
    wants = GoBinaryExtractor().wants
    assert wants(FileInfo("usr/bin/x", 10_000, 0o100755))
    assert wants(FileInfo("usr/bin/x", 10_000, 0o100744))
    assert not wants(FileInfo("usr/bin/x", 10_000, 0o100644))
    assert not wants(FileInfo("usr/bin/x", 10, 0o100755))
    assert wants(FileInfo("usr/bin/kubectl-1.29", 10_000, 0o100755))


@pytest.mark.parametrize(
    ("path", "considered"),
    [
        ("usr/lib/python3/x.py", False),
        ("usr/share/doc/a/changelog.gz", False),
        ("opt/app/index.html", False),
        ("bin/run.sh", False),
        ("usr/bin/docker", True),
        ("usr/local/bin/kubectl-1.29", True),
        ("opt/x.py/real-binary", True),
        ("root/.sh", True),
        ("usr/lib/libgo.so", True),
    ],
)
def test_patterns_pass_over_data_files_by_name(path: str, considered: bool) -> None:
    extractor = GoBinaryExtractor()
    directory, _, name = path.rpartition("/")
    matches = re.fullmatch(extractor.directory_pattern, directory) and re.fullmatch(
        extractor.name_pattern, name
    )
    assert bool(matches) is considered


def test_real_go_binary(tmp_path: Path) -> None:
    packages = _extract(tmp_path, FIXTURE.read_bytes())
    assert _names(packages) == {("stdlib", "1.19.8"), ("example.com/fork", "1.2.4")}
    assert all(
        p.ecosystem == "Go" and p.location == "/" + REL and p.extractor == "gobinary" for p in packages
    )


def test_not_elf_and_elf_without_go_are_not_packages(tmp_path: Path, elf_lib: ModuleType) -> None:
    assert _extract(tmp_path, b"#!/bin/sh\n" + b"echo hi\n" * 20) == []
    assert _extract(tmp_path, elf_lib.build_elf([elf_lib.Sec(".text", 0x1000, b"\x90" * 64)])) == []


@pytest.mark.parametrize(("bits", "big"), [(64, False), (32, False), (64, True), (32, True)])
def test_inline_format(tmp_path: Path, elf_lib: ModuleType, bits: int, big: bool) -> None:
    mod = elf_lib.modinfo(
        "example.com/app",
        [
            ("github.com/a/b", "v1.2.3"),
            ("golang.org/x/net", "v0.0.0-20210226172049-e18ecbb05110"),
            ("old/x", "v1.0.0"),
        ],
        {"old/x": ("new/x", "v1.1.0")},
    )
    section = elf_lib.Sec(".go.buildinfo", 0x4000, elf_lib.inline_buildinfo("go1.21.4", mod, bits // 8))
    packages = _extract(tmp_path, elf_lib.build_elf([section], bits, big))
    assert _names(packages) == {
        ("stdlib", "1.21.4"),
        ("github.com/a/b", "1.2.3"),
        ("golang.org/x/net", "0.0.0-20210226172049-e18ecbb05110"),
        ("new/x", "1.1.0"),
    }


@pytest.mark.parametrize("big", [False, True])
def test_old_pointer_format(tmp_path: Path, elf_lib: ModuleType, big: bool) -> None:
    mod = elf_lib.modinfo("example.com/app", [("github.com/a/b", "v1.2.3")])
    sections = elf_lib.pointer_buildinfo_sections("go1.16.15", mod, big)
    assert _names(_extract(tmp_path, elf_lib.build_elf(sections, 64, big))) == {
        ("stdlib", "1.16.15"),
        ("github.com/a/b", "1.2.3"),
    }


def test_binary_built_without_modules_gives_stdlib_only(tmp_path: Path, elf_lib: ModuleType) -> None:
    blob = elf_lib.GO_MAGIC + bytes([8, 2]) + b"\x00" * 16 + b"\x06go1.20\x00"
    packages = _extract(tmp_path, elf_lib.build_elf([elf_lib.Sec(".go.buildinfo", 0x4000, blob)]))
    assert _names(packages) == {("stdlib", "1.20.0")}


@pytest.mark.parametrize(
    ("go", "version"),
    [
        ("go1.20.3", "1.20.3"),
        ("go1.20", "1.20.0"),
        ("go1.21rc2", "1.21.0-rc.2"),
        ("go1.19beta1", "1.19.0-beta.1"),
        ("go1.22.1 X:boringcrypto", "1.22.1"),
        ("devel go1.22-abcdef", None),
        ("", None),
    ],
)
def test_stdlib_version(go: str, version: str | None) -> None:
    assert stdlib_version(go) == version


def test_modinfo_main_module_replacement_and_local_replacement() -> None:
    text = "path\tx\nmod\tx\tv0.1.0\t\n=>\ty\tv0.2.0\t\ndep\ta\tv1.0.0\th1:x\n=>\t../a\t\t\ndep\tb\tv2.0.0\th1:y\n"
    main, deps = parse_modinfo(text)
    assert main is not None and (main.path, main.version) == ("y", "v0.2.0")
    assert [(d.path, d.version) for d in deps] == [("../a", ""), ("b", "v2.0.0")]


def _hostile(elf_lib: ModuleType, patch: dict[int, bytes] | None = None, blob: bytes | None = None) -> bytes:
    mod = elf_lib.modinfo("example.com/app", [("github.com/a/b", "v1.2.3")])
    blob = blob if blob is not None else elf_lib.inline_buildinfo("go1.21.4", mod)
    data = bytearray(elf_lib.build_elf([elf_lib.Sec(".go.buildinfo", 0x4000, blob)]))
    for offset, value in (patch or {}).items():
        data[offset : offset + len(value)] = value
    return bytes(data)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({0x28: struct.pack("<Q", 10**12)}, "outside the file"),  # e_shoff far beyond the end
        ({0x3C: struct.pack("<H", 1000)}, "outside the file"),  # e_shnum lies
        ({0x3C: struct.pack("<H", 60000)}, "more than"),  # e_shnum lies beyond the cap
        ({0x3A: struct.pack("<H", 8)}, "too small"),  # e_shentsize lies
        ({0x3E: struct.pack("<H", 999)}, "out of range"),  # e_shstrndx lies
        ({4: b"\x07"}, "unknown class"),
    ],
)
def test_lying_elf_headers(
    tmp_path: Path, elf_lib: ModuleType, patch: dict[int, bytes], message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        _extract(tmp_path, _hostile(elf_lib, patch))


def test_lying_section_offset(tmp_path: Path, elf_lib: ModuleType) -> None:
    data = bytearray(_hostile(elf_lib))
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    struct.pack_into("<Q", data, shoff + 64 + 24, 10**9)  # section 1 (.go.buildinfo): sh_offset
    with pytest.raises(ParseError, match="outside the file"):
        _extract(tmp_path, bytes(data))


def test_truncated_real_binary(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        _extract(tmp_path, FIXTURE.read_bytes()[:200_000])
    with pytest.raises(ParseError):
        _extract(tmp_path, FIXTURE.read_bytes()[:10])


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"no magic here" * 4, "no build info header"),
        (b"\xff Go buildinf:\x08\x02" + b"\x00" * 16 + b"\x40go1", "runs past the end"),
        (b"\xff Go buildinf:\x08\x02" + b"\x00" * 16 + b"\xff" * 12, "truncated length"),
        (b"\xff Go buildinf:\x03\x00" + b"\x00" * 16, "invalid pointer size"),
        (b"\xff Go buildinf:\x08\x00" + struct.pack("<QQ", 0xDEAD0000, 0xBEEF0000), "not in any section"),
        (b"\xff Go buildinf:\x08\x02" + b"\x00" * 16 + b"\x81\x80\x80\x02", "too long"),
    ],
)
def test_malformed_buildinfo(tmp_path: Path, elf_lib: ModuleType, blob: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _extract(tmp_path, _hostile(elf_lib, blob=blob))


def test_hostile_module_path(tmp_path: Path, elf_lib: ModuleType) -> None:
    mod = elf_lib.modinfo("example.com/app", [("evil\x1b[2J path", "v1.0.0")])
    blob = elf_lib.inline_buildinfo("go1.21.4", mod)
    with pytest.raises(ParseError, match="invalid module path"):
        _extract(tmp_path, _hostile(elf_lib, blob=blob))


def test_too_many_sections(tmp_path: Path, elf_lib: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_elf, "MAX_SECTIONS", 2)
    with pytest.raises(LimitExceeded):
        _extract(tmp_path, _hostile(elf_lib))


def test_real_binary_copy_in_rootfs_is_found_once(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURE, tmp_path / "a")
    (tmp_path / "a").chmod(0o755)
    target = DirectoryTarget(tmp_path)
    (info,) = list(target.walk())
    assert GoBinaryExtractor().wants(info)
