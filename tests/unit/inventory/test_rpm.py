"""rpm extractor: rpmdb.sqlite files built by the tests, header parsing, and hostile databases and headers."""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
from pathlib import Path

import pytest

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory import rpm
from rampart.inventory.base import ExtractContext
from rampart.inventory.rpm import NAME, RpmExtractor, ecosystem_for, read_header, source_of
from rampart.model import OsRelease, Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo
from unit.inventory.rpm_helpers import (
    INT32,
    STRING,
    header_blob,
    int32,
    package_entries,
    raw_blob,
    string,
    write_rpmdb,
)

DB = "var/lib/rpm/rpmdb.sqlite"
RHEL9 = OsRelease("rhel", "9.3", id_like=("fedora",))


def _good_blobs() -> list[object]:
    return [
        header_blob(
            package_entries(
                "openssl-libs", "3.0.7", "27.el9", epoch=1, source_rpm="openssl-3.0.7-27.el9.src.rpm"
            )
        ),
        header_blob(package_entries("bash", "5.1.8", "9.el9", epoch=0, license="GPLv3+")),
        header_blob(package_entries("gpg-pubkey", "fd431d51", "4ae0493b", arch="", source_rpm="")),
        header_blob(package_entries("tzdata", "2024a", "1.el9", arch="noarch", source_rpm="")),
    ]


def _extract(
    tmp_path: Path, blobs: list[object], os: OsRelease | None = RHEL9
) -> tuple[list[Package], ExtractContext]:
    path = write_rpmdb(tmp_path / DB, blobs)
    return _extract_file(tmp_path, path, os)


def _extract_file(
    tmp_path: Path, path: Path, os: OsRelease | None = RHEL9, size: int | None = None
) -> tuple[list[Package], ExtractContext]:
    rel = path.relative_to(tmp_path).as_posix()
    info = FileInfo(rel, path.stat().st_size if size is None else size, 0o100644)
    context = ExtractContext(os=os)
    return RpmExtractor().extract(info, DirectoryTarget(tmp_path), context), context


def test_wants() -> None:
    wants = RpmExtractor().wants
    info = lambda p: FileInfo(p, 1, 0o100644)  # noqa: E731
    assert wants(info("var/lib/rpm/rpmdb.sqlite"))
    assert wants(info("usr/lib/sysimage/rpm/rpmdb.sqlite"))
    assert not wants(info("var/lib/rpm/Packages"))
    assert not wants(info("var/lib/rpm/rpmdb.sqlite-wal"))
    assert not wants(info("srv/chroot/var/lib/rpm/rpmdb.sqlite"))


def test_packages_of_a_database(tmp_path: Path) -> None:
    packages, context = _extract(tmp_path, _good_blobs())
    assert context.errors == []
    got = {(p.name, p.version, p.source_name, p.source_version) for p in packages}
    assert got == {
        ("openssl-libs", "1:3.0.7-27.el9", "openssl", "1:3.0.7-27.el9"),
        ("bash", "5.1.8-9.el9", "bash", "5.1.8-9.el9"),  # epoch 0 is not shown
        ("tzdata", "2024a-1.el9", "tzdata", "2024a-1.el9"),  # no SOURCERPM: its own source
    }  # gpg-pubkey (an imported key) is not a package
    assert all(
        p.ecosystem == "Red Hat:enterprise_linux:9" and p.location == "/" + DB and p.extractor == "rpm"
        for p in packages
    )


def test_database_is_left_untouched_and_no_copy_remains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_rpmdb(tmp_path / "root" / DB, _good_blobs())
    os.chmod(path, 0o444)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    packages, _ = _extract_file(tmp_path / "root", path)
    assert len(packages) == 3
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in (tmp_path / "root" / "var/lib/rpm").iterdir()) == ["rpmdb.sqlite"]
    assert list(scratch.iterdir()) == []


def test_header_with_file_magic_is_read() -> None:
    header = read_header(header_blob(package_entries("zlib", "1.2.11", "40.el9", arch="aarch64"), magic=True))
    assert (header.name, header.evr, header.arch, header.license) == (
        "zlib",
        "1.2.11-40.el9",
        "aarch64",
        "MIT",
    )


@pytest.mark.parametrize(
    ("source_rpm", "expected"),
    [
        ("openssl-3.0.7-27.el9.src.rpm", ("openssl", "2:3.0.7-27.el9")),
        ("kernel-5.14.0-362.el9.nosrc.rpm", ("kernel", "2:5.14.0-362.el9")),
        ("garbage", ("pkg", "2:1.0-1")),
        ("no-version.src.rpm", ("pkg", "2:1.0-1")),
        ("", ("pkg", "2:1.0-1")),
    ],
)
def test_source_of(source_rpm: str, expected: tuple[str, str]) -> None:
    header = read_header(header_blob(package_entries("pkg", "1.0", "1", epoch=2, source_rpm=source_rpm)))
    assert source_of(header) == expected


@pytest.mark.parametrize(
    ("os_release", "ecosystem"),
    [
        (OsRelease("rhel", "9.3"), "Red Hat:enterprise_linux:9"),
        (OsRelease("almalinux", "9.4"), "AlmaLinux:9"),
        (OsRelease("rocky", "8.9"), "Rocky Linux:8"),
        (OsRelease("fedora", "40"), "Fedora:40"),
        (OsRelease("amzn", "2023"), "Amazon Linux:2023"),
        (OsRelease("centos", "9"), "RPM"),
        (OsRelease("rhel", ""), "RPM"),
        (None, "RPM"),
    ],
)
def test_ecosystem_for(os_release: OsRelease | None, ecosystem: str) -> None:
    assert ecosystem_for(os_release) == ecosystem


GOOD = header_blob(package_entries("bash", "5.1.8", "9.el9"))
_INDEX_ONE = struct.pack(">iIiI", NAME, STRING, 0, 1)

HOSTILE_HEADERS = [
    (GOOD[:-5], "header claims"),  # truncated
    (GOOD[:6], "truncated"),
    (b"", "truncated"),
    (raw_blob(0xFFFFFFFF, 0), "4294967295 index entries"),  # huge count
    (raw_blob(0, 0), "0 index entries"),
    (raw_blob(1, 1 << 30, _INDEX_ONE, b"bash\x00"), "claims 1073741848 bytes"),  # 1 GB claimed data
    (b"\x8e\xad\xe8\x02" + GOOD, "index entries"),  # wrong magic: read as counts
    (
        raw_blob(1, 5, struct.pack(">iIiI", NAME, STRING, 4096, 1), b"bash\x00"),
        "outside the 5-byte data store",
    ),
    (raw_blob(1, 5, struct.pack(">iIiI", NAME, STRING, -8, 1), b"bash\x00"), "offset -8 outside"),
    (raw_blob(1, 4, _INDEX_ONE, b"bash"), "runs past"),  # no NUL
    (raw_blob(1, 4, struct.pack(">iIiI", NAME, INT32, 0, 1), b"\x00\x00\x00\x01"), "not a string"),
    (raw_blob(1, 2, struct.pack(">iIiI", rpm.EPOCH, INT32, 0, 1), b"\x00\x01"), "runs past"),
    (header_blob([string(rpm.VERSION, "1"), string(rpm.RELEASE, "1")]), "no NAME"),
    (header_blob([*package_entries("x", "1", "1")[:3], int32(rpm.ARCH, 7)]), "not a string"),
]


@pytest.mark.parametrize(("blob", "message"), HOSTILE_HEADERS)
def test_hostile_headers_raise_a_clear_error(blob: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        read_header(blob)
    assert "\n" not in caught.value.message


def test_hostile_rows_are_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    bad_version = header_blob(package_entries("evil", "1 0", "1"))
    blobs = [*_good_blobs(), *(b for b, _ in HOSTILE_HEADERS), bad_version, "text, not a blob", 42]
    packages, context = _extract(tmp_path, blobs)
    assert {p.name for p in packages} == {"openssl-libs", "bash", "tzdata"}
    [error] = context.errors
    assert error.path == "/" + DB
    assert error.message.startswith(
        f"{len(HOSTILE_HEADERS) + 3} malformed header(s) skipped; first: package 5:"
    )


def test_not_an_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / DB
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\x06\x15\x61" + b"\x00" * 4092)  # a Berkeley DB hash file's start
    with pytest.raises(ParseError, match="not an SQLite database"):
        _extract_file(tmp_path, path)


def test_corrupt_sqlite_file(tmp_path: Path) -> None:
    path = write_rpmdb(tmp_path / DB, _good_blobs())
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError, match=r"unreadable rpm database|no Packages table"):
        _extract_file(tmp_path, path)


@pytest.mark.parametrize(
    "schema",
    [
        "CREATE TABLE other (x)",
        "CREATE TABLE t (hnum, blob); CREATE VIEW Packages AS SELECT * FROM t",
    ],
)
def test_database_without_a_packages_table(tmp_path: Path, schema: str) -> None:
    path = tmp_path / DB
    path.parent.mkdir(parents=True)
    connection = sqlite3.connect(path)
    connection.executescript(schema)
    connection.close()
    with pytest.raises(ParseError, match="no Packages table"):
        _extract_file(tmp_path, path)


def test_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_rpmdb(tmp_path / DB, _good_blobs())
    with pytest.raises(LimitExceeded, match="larger than"):
        _extract_file(tmp_path, path, size=2 * 1024**3)  # a size claimed by the listing
    monkeypatch.setattr(rpm, "MAX_DB_SIZE", 4096)
    with pytest.raises(LimitExceeded, match="larger than 4096 bytes"):
        _extract_file(tmp_path, path, size=10)  # a listing that lies: the copy itself stops


def test_package_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm, "MAX_PACKAGES", 2)
    with pytest.raises(LimitExceeded, match="more than 2 packages"):
        _extract(tmp_path, _good_blobs())


def test_header_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm, "MAX_HEADER_SIZE", 300)
    big = header_blob(package_entries("big", "1", "1", license="x" * 400))
    packages, context = _extract(tmp_path, [big, header_blob(package_entries("a", "1", "1"))])
    assert [p.name for p in packages] == ["a"]
    assert "is larger than 300" in context.errors[0].message


def test_sqlite_work_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm, "MAX_SQLITE_STEPS", 1)
    with pytest.raises(LimitExceeded, match="too much work"):
        _extract(tmp_path, [GOOD] * 2000)
