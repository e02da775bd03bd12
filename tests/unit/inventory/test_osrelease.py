"""os-release parsing: quoting, comments, garbage, fallback path, size cap."""

from __future__ import annotations

from pathlib import Path

from rampart.inventory.osrelease import MAX_SIZE, parse_os_release, read_os_release
from rampart.model import OsRelease
from rampart.target import DirectoryTarget

UBUNTU = """\
# comment
NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME='Ubuntu 22.04.3 LTS'
VERSION_CODENAME=jammy
this is garbage
BROKEN="unterminated
ESCAPED="a \\"quoted\\" word"
"""


def test_parse_ubuntu() -> None:
    release = parse_os_release(UBUNTU)
    assert release == OsRelease("ubuntu", "22.04", "Ubuntu 22.04.3 LTS", ("debian",), "jammy")
    assert release.ecosystem == "Ubuntu:22.04"


def test_escapes_and_garbage_tolerated() -> None:
    from rampart.inventory.osrelease import parse_fields

    fields = parse_fields(UBUNTU)
    assert fields["ESCAPED"] == 'a "quoted" word'
    assert "BROKEN" not in fields


def test_id_defaults_to_linux() -> None:
    assert parse_os_release("VERSION_ID=1\n").id == "linux"


def _root(tmp_path: Path, files: dict[str, bytes]) -> DirectoryTarget:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return DirectoryTarget(tmp_path)


def test_fallback_to_usr_lib(tmp_path: Path) -> None:
    target = _root(tmp_path, {"usr/lib/os-release": b"ID=debian\nVERSION_ID=12\n"})
    release, errors = read_os_release(target)
    assert release is not None and release.ecosystem == "Debian:12" and errors == []


def test_missing_is_no_os_and_no_error(tmp_path: Path) -> None:
    assert read_os_release(DirectoryTarget(tmp_path)) == (None, [])


def test_huge_file_is_an_error(tmp_path: Path) -> None:
    target = _root(tmp_path, {"etc/os-release": b"ID=debian\n" + b"#" * MAX_SIZE})
    release, errors = read_os_release(target)
    assert release is None and errors[0].path == "/etc/os-release" and "limit" in errors[0].message


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    release, errors = read_os_release(_root(tmp_path, {"etc/os-release": b"ID=debian\x00\xff"}))
    assert release is None and "binary" in errors[0].message


def test_directory_in_place_of_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc/os-release").mkdir(parents=True)
    release, errors = read_os_release(DirectoryTarget(tmp_path))
    assert release is None and errors[0].message == "not a regular file"
