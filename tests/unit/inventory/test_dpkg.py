"""dpkg extractor: status and status.d, Source parsing, installed states, malformed stanzas, speed."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from rampart.errors import LimitExceeded
from rampart.inventory import dpkg
from rampart.inventory.base import ExtractContext
from rampart.inventory.dpkg import DpkgExtractor, ecosystem_for
from rampart.model import OsRelease, Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo

DEBIAN11 = OsRelease("debian", "11")


def _extract(
    tmp_path: Path, rel: str, data: bytes, os: OsRelease | None = DEBIAN11
) -> tuple[list[Package], ExtractContext]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    context = ExtractContext(os=os)
    packages = DpkgExtractor().extract(FileInfo(rel, len(data), 0o100644), DirectoryTarget(tmp_path), context)
    return packages, context


def _status(tmp_path: Path, text: str) -> tuple[list[Package], ExtractContext]:
    return _extract(tmp_path, "var/lib/dpkg/status", text.encode())


def test_wants() -> None:
    wants = DpkgExtractor().wants
    info = lambda p: FileInfo(p, 1, 0o100644)  # noqa: E731
    assert wants(info("var/lib/dpkg/status"))
    assert wants(info("var/lib/dpkg/status.d/libc6"))
    assert not wants(info("var/lib/dpkg/status.d/libc6.md5sums"))
    assert not wants(info("var/lib/dpkg/status-old"))
    assert not wants(info("var/lib/dpkg/status.d/sub/x"))
    assert not wants(info("srv/chroot/var/lib/dpkg/status"))


def test_fixture_status(tmp_path: Path, rootfs_lib: ModuleType) -> None:
    rootfs_lib.build_debian11_rootfs(tmp_path)
    data = (tmp_path / "var/lib/dpkg/status").read_bytes()
    packages, context = _extract(tmp_path, "var/lib/dpkg/status", data)
    by_name = {p.name: p for p in packages}
    assert set(by_name) == {"base-files", "bash", "libc6", "openssl", "xserver-xorg-core", "libtiff5"}
    xorg = by_name["xserver-xorg-core"]
    assert (xorg.version, xorg.source_name, xorg.source_version) == (
        "2:1.20.11-1+deb11u5",
        "xorg-server",
        "2:1.20.11-1+deb11u5",
    )
    tiff = by_name["libtiff5"]
    assert (tiff.version, tiff.source_name, tiff.source_version) == (
        "4.2.0-1+deb11u3+b1",
        "tiff",
        "4.2.0-1+deb11u3",
    )
    assert by_name["bash"].source_name == "bash" and by_name["bash"].source_version == "5.1-2+deb11u1"
    assert all(
        p.ecosystem == "Debian:11" and p.location == "/var/lib/dpkg/status" and p.extractor == "dpkg"
        for p in packages
    )
    assert context.errors == []


@pytest.mark.parametrize(
    ("status", "listed"),
    [
        ("install ok installed", True),
        ("hold ok installed", True),
        ("deinstall ok installed", True),
        ("install ok half-configured", True),
        ("install ok unpacked", True),
        ("install ok triggers-pending", True),
        ("deinstall ok config-files", False),
        ("purge ok not-installed", False),
        ("install ok half-installed", False),
        ("garbage", False),
    ],
)
def test_status_states(tmp_path: Path, status: str, listed: bool) -> None:
    packages, _ = _status(tmp_path, f"Package: a\nStatus: {status}\nVersion: 1.0\n")
    assert bool(packages) is listed


def test_source_without_version(tmp_path: Path) -> None:
    (package,), _ = _status(
        tmp_path, "Package: libx\nStatus: install ok installed\nSource: x\nVersion: 2.0-1\n"
    )
    assert (package.source_name, package.source_version) == ("x", "2.0-1")


def test_status_d_without_status_is_installed(tmp_path: Path) -> None:
    text = b"Package: libssl1.1\nVersion: 1.1.1n-0+deb11u4\nSource: openssl\n\nPackage: zlib1g\nVersion: 1:1.2.11.dfsg-2\n"
    packages, _ = _extract(tmp_path, "var/lib/dpkg/status.d/libssl1.1", text)
    assert [(p.name, p.source_name, p.location) for p in packages] == [
        ("libssl1.1", "openssl", "/var/lib/dpkg/status.d/libssl1.1"),
        ("zlib1g", "zlib1g", "/var/lib/dpkg/status.d/libssl1.1"),
    ]


@pytest.mark.parametrize(
    ("release", "ecosystem"),
    [
        (None, "Debian"),
        (OsRelease("debian", ""), "Debian"),
        (OsRelease("ubuntu", "22.04"), "Ubuntu:22.04"),
        (OsRelease("linuxmint", "21.1", id_like=("ubuntu", "debian")), "Ubuntu"),
        (OsRelease("kali", "2023.1", id_like=("debian",)), "Debian"),
    ],
)
def test_ecosystem(release: OsRelease | None, ecosystem: str) -> None:
    assert ecosystem_for(release) == ecosystem


GOOD = "Package: good\nStatus: install ok installed\nVersion: 1.0\n"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("Package: nover\nStatus: install ok installed\n", "no Package or no Version"),
        ("Status: install ok installed\nVersion: 1\n", "no Package or no Version"),
        ("Package: bad name!\nStatus: install ok installed\nVersion: 1\n", "invalid Package or Version"),
        ("Package: x\nStatus: install ok installed\nVersion: 1 2\n", "invalid Package or Version"),
        ("Package: x\nthis line has no colon\nVersion: 1\n", "neither 'Field: value'"),
        ("Package: x\x00\x01\x02\nVersion: 1\n", "binary data"),
        ("Package: x\nStatus: install ok installed\nSource: a b c\nVersion: 1\n", "invalid Source"),
    ],
)
def test_malformed_stanza_is_an_error_and_the_rest_is_kept(tmp_path: Path, bad: str, reason: str) -> None:
    packages, context = _status(tmp_path, f"{GOOD}\n{bad}\n{GOOD.replace('good', 'after')}")
    assert [p.name for p in packages] == ["good", "after"]
    (error,) = context.errors
    assert (
        error.path == "/var/lib/dpkg/status"
        and "1 malformed stanza(s)" in error.message
        and reason in error.message
    )
    assert "stanza 2" in error.message


def test_binary_junk_file(tmp_path: Path) -> None:
    junk = bytes(range(256)) * 40
    packages, context = _extract(
        tmp_path, "var/lib/dpkg/status", GOOD.encode() + b"\n" + junk + b"\n\n" + GOOD.encode()
    )
    assert [p.name for p in packages] == ["good", "good"]
    assert len(context.errors) == 1


def test_crlf_and_extra_blank_lines(tmp_path: Path) -> None:
    text = (
        "\r\n\r\n"
        + GOOD.replace("\n", "\r\n")
        + "\r\n \t\r\n\r\n"
        + GOOD.replace("good", "two").replace("\n", "\r\n")
    )
    packages, context = _status(tmp_path, text)
    assert [p.name for p in packages] == ["good", "two"] and context.errors == []


def test_empty_file(tmp_path: Path) -> None:
    assert _status(tmp_path, "") == ([], ExtractContext(os=DEBIAN11))


def test_huge_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dpkg, "MAX_SIZE", 1000)
    with pytest.raises(LimitExceeded):
        _status(tmp_path, GOOD * 100)


def test_large_status_parses(tmp_path: Path) -> None:
    """A 5 MB status file, as on a big host (its parse time: benchmarks/inventory.py)."""
    stanza = (
        "Package: pkg{0}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 100\n"
        "Maintainer: Someone <someone@example.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: src{0} (1.0-1)\n"
        "Version: 1.0-1+b{0}\nDepends: libc6 (>= 2.14), libfoo (>= 1.2), libbar\n"
        "Description: a package\n" + " with a long description line that goes on and on for a while\n" * 8
    )
    text = "\n".join(stanza.format(i) for i in range(6400))
    assert len(text) > 5_000_000
    packages, _ = _status(tmp_path, text)
    assert len(packages) == 6400
    assert {p.source_version for p in packages} == {"1.0-1"}
