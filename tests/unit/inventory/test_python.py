"""Python extractor: dist-info/egg-info metadata in site-packages/dist-packages, names normalised."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory import python
from rampart.inventory.base import ExtractContext
from rampart.inventory.python import PythonExtractor, normalize_name
from rampart.model import OsRelease, Package
from rampart.target import DirectoryTarget
from rampart.target.base import FileInfo

SITE = "usr/lib/python3/dist-packages"


def _extract(tmp_path: Path, rel: str, data: bytes) -> list[Package]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return PythonExtractor().extract(
        FileInfo(rel, len(data), 0o100644), DirectoryTarget(tmp_path), ExtractContext()
    )


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/lib/python3/dist-packages/a-1.dist-info/METADATA", True),
        ("opt/v/lib/python3.11/site-packages/a-1.dist-info/METADATA", True),
        ("opt/v/lib/python3.11/site-packages/setuptools/_vendor/p-24.dist-info/METADATA", True),
        ("usr/lib/python3/dist-packages/a-1.egg-info/PKG-INFO", True),
        ("usr/lib/python3/dist-packages/a-1.egg-info", True),
        ("usr/lib/python3/dist-packages/a-1.dist-info/RECORD", False),
        ("home/me/src/a.egg-info/PKG-INFO", False),
        ("home/me/src/a-1.dist-info/METADATA", False),
        ("usr/lib/python3/dist-packages/a/METADATA", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert PythonExtractor().wants(FileInfo(path, 10, 0o100644)) is wanted


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("Zope.Interface", "zope-interface"), ("PyYAML", "pyyaml"), ("a__b--c..d", "a-b-c-d"), ("x", "x")],
)
def test_normalize(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_dist_info(tmp_path: Path) -> None:
    rel = f"{SITE}/Foo_Bar-1.0.dist-info/METADATA"
    body = b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0.post1\nSummary: s\n\nName: not-this\nVersion: 9\n"
    assert _extract(tmp_path, rel, body) == [Package("foo-bar", "1.0.post1", "PyPI", "/" + rel, "python")]


def test_egg_info_file_and_crlf(tmp_path: Path) -> None:
    rel = f"{SITE}/six-1.16.0.egg-info"
    (package,) = _extract(tmp_path, rel, b"Metadata-Version: 1.1\r\nName: six\r\nVersion: 1.16.0\r\n\r\nbody")
    assert (package.name, package.version, package.location) == ("six", "1.16.0", "/" + rel)


def test_headers_only_file_without_body(tmp_path: Path) -> None:
    (package,) = _extract(tmp_path, f"{SITE}/a-1.dist-info/METADATA", b"Name: a\nVersion: 1")
    assert package.version == "1"


def test_large_body_is_not_read(tmp_path: Path) -> None:
    data = b"Name: big\nVersion: 2\n\n" + b"x" * (3 * python.MAX_HEADER)
    assert _extract(tmp_path, f"{SITE}/big-2.dist-info/METADATA", data)[0].name == "big"


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"Metadata-Version: 2.1\nVersion: 1.0\n", ParseError, "no Name"),
        (b"Name: x\n", ParseError, "no Version"),
        (b"", ParseError, "no Name"),
        (b"Name: bad name\nVersion: 1\n", ParseError, "invalid Name"),
        (b"Name: x\nVersion: 1 2\n", ParseError, "invalid Name or Version"),
        (b"Name: \x1b[31mred\nVersion: 1\n", ParseError, "invalid Name"),
        (b"Name: x\x00\nVersion: 1\n", ParseError, "binary"),
        (b"\xff\xfe\xfd" * 10, ParseError, "no Name"),
        (b"Name: x\n" + b"X-Long: y\n" * 200_000, LimitExceeded, "header block"),
    ],
)
def test_bad_metadata(tmp_path: Path, data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        _extract(tmp_path, f"{SITE}/x-1.dist-info/METADATA", data)


@pytest.mark.parametrize(
    ("os_release", "rel", "managed"),
    [
        (OsRelease("debian", "12"), "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "dpkg"),
        (
            OsRelease("ubuntu", "24.04"),
            "usr/lib/python3.12/dist-packages/six-1.16.0.dist-info/METADATA",
            "dpkg",
        ),
        (
            OsRelease("linuxmint", "21", id_like=("ubuntu", "debian")),
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            "dpkg",
        ),
        (
            OsRelease("debian", "12"),
            "usr/local/lib/python3.11/dist-packages/six-1.16.0.dist-info/METADATA",
            None,
        ),
        (
            OsRelease("debian", "12"),
            "opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
            None,
        ),
        (OsRelease("fedora", "40"), "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", None),
        (None, "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", None),
    ],
)
def test_distribution_installed_packages_are_marked(
    tmp_path: Path, os_release: OsRelease | None, rel: str, managed: str | None
) -> None:
    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    data = b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n\n"
    path.write_bytes(data)
    (package,) = PythonExtractor().extract(
        FileInfo(rel, len(data), 0o100644), DirectoryTarget(tmp_path), ExtractContext(os=os_release)
    )
    assert package.managed_by == managed
