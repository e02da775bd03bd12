"""Hostile bundles: each a clear per-member or per-target error, nothing written, the rest still scanned."""

from __future__ import annotations

import errno
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rampart.bundle import BundleError, Limits, ZipTarget, open_bundle
from rampart.bundle.names import BadName, safe_path
from rampart.errors import TargetError
from rampart.inventory import collect_inventory
from rampart.model import Inventory
from unit.bundle.bundlebuild import Raw, metadata, package_json, raw_zip, symlink, write_zip
from unit.image.imagebuild import snapshot

GOOD = ("node_modules/lodash/package.json", package_json("lodash", "4.17.20"))
GOOD_PY = ("python/lib/python3.12/site-packages/six-1.16.0.dist-info/METADATA", metadata("six", "1.16.0"))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory that must hold nothing more after the test than the bundles it wrote."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert {p for p in snapshot(tmp_path) if not p.endswith(".zip")} == set()


def _scan(path: Path, limits: Limits | None = None) -> Inventory:
    with ZipTarget(path, limits) as target:
        return collect_inventory(target, workers=1)


def _names(inventory: Inventory) -> set[str]:
    return {p.name for p in inventory.packages}


def _errors(inventory: Inventory) -> dict[str, str]:
    return {e.path: e.message for e in inventory.errors}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("../../etc/cron.d/x", "climbs out with '..'"),
        ("node_modules/../../x/package.json", "climbs out with '..'"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/x", "absolute path"),
        ("..\\..\\evil.py", "backslash"),
        ("evil\x00.py/package.json", "NUL byte"),
    ],
)
def test_unsafe_names_are_per_member_errors(raw: str, message: str) -> None:
    with pytest.raises(BadName, match=message):
        safe_path(raw)


def test_bundle_with_unsafe_names_still_gives_its_other_packages(work: Path) -> None:
    hostile = [
        b"../../escape.txt",
        b"/abs/node_modules/x/package.json",
        b"a\\..\\b.txt",
        b"nul\x00/package.json",
    ]
    data = raw_zip([Raw(name, b"x") for name in hostile] + [Raw(GOOD[0].encode(), GOOD[1])])
    (work / "names.zip").write_bytes(data)
    inventory = _scan(work / "names.zip")
    assert _names(inventory) == {"lodash"}
    errors = _errors(inventory)
    assert len(errors) == 4
    assert errors["/../../escape.txt"] == "member name climbs out with '..'"
    assert errors["/abs/node_modules/x/package.json"] == "member name is an absolute path"
    assert errors["/nul\\x00/package.json"] == "member name holds a NUL byte"
    assert not (work.parent / "escape.txt").exists()


def test_a_duplicate_path_keeps_the_later_member_and_says_so(work: Path) -> None:
    path = write_zip(
        work / "dup.zip",
        [
            ("node_modules/x/package.json", package_json("x", "1.0.0")),
            ("./node_modules/x/package.json", package_json("x", "2.0.0")),
        ],
    )
    inventory = _scan(path)
    assert [(p.name, p.version) for p in inventory.packages] == [("x", "2.0.0")]
    assert _errors(inventory) == {
        "/node_modules/x/package.json": "bundle holds this path more than once; the last one is used"
    }
    assert inventory.files_seen == 1


def test_a_path_both_file_and_directory_keeps_the_directory(work: Path) -> None:
    path = write_zip(work / "clash.zip", [("node_modules", b"file"), GOOD])
    inventory = _scan(path)
    assert _names(inventory) == {"lodash"}
    assert _errors(inventory) == {"/node_modules": "bundle holds this path as a file and as a directory"}


def test_overlapping_entries_are_a_per_target_error(work: Path) -> None:
    members = [Raw(b"a/package.json", package_json("a", "1.0.0"))]
    members += [
        Raw(f"copy{i}/package.json".encode(), package_json("a", "1.0.0"), local_of=0) for i in range(3)
    ]
    (work / "overlap.zip").write_bytes(raw_zip(members))
    with pytest.raises(BundleError, match="overlapping entries"):
        open_bundle(work / "overlap.zip")
    assert issubclass(BundleError, TargetError)


def test_an_entry_reaching_into_the_central_directory_is_a_per_target_error(work: Path) -> None:
    data = bytearray(raw_zip([Raw(b"a.txt", b"hello")]))
    central = data.index(b"PK\x01\x02")
    data[central + 20 : central + 24] = (500).to_bytes(4, "little")  # compressed size past the directory
    (work / "long.zip").write_bytes(bytes(data))
    with pytest.raises(BundleError, match="central directory"):
        open_bundle(work / "long.zip")


def test_a_compression_bomb_member_is_refused_and_the_rest_read(work: Path) -> None:
    path = write_zip(work / "bomb.zip", [("node_modules/z/package.json", b" " * (8 << 20)), GOOD, GOOD_PY])
    inventory = _scan(path)
    assert _names(inventory) == {"lodash", "six"}
    message = _errors(inventory)["/node_modules/z/package.json"]
    assert message.startswith("member would unpack 8388608 bytes from ") and "zip bomb" in message
    assert inventory.files_seen == 2


def test_declared_sizes_past_the_total_cap_are_a_per_target_error(work: Path) -> None:
    huge = [Raw(f"f{i}".encode(), b"x" * 100, declared_size=0xF0000000) for i in range(5)]
    (work / "total.zip").write_bytes(raw_zip(huge))
    with pytest.raises(BundleError, match=r"would unpack to 20132659200 bytes, more than the cap"):
        open_bundle(work / "total.zip")


def test_a_member_larger_than_the_file_cap_is_a_per_file_error(work: Path) -> None:
    path = write_zip(work / "big.zip", [("node_modules/big/package.json", b" " * 4096), GOOD])
    inventory = _scan(path, Limits(max_file_bytes=1024))
    assert _names(inventory) == {"lodash"}
    assert "larger than the" in _errors(inventory)["/node_modules/big/package.json"]


@pytest.fixture(scope="module")
def many_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("many") / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(100_001):
            archive.writestr(f"d{i % 100}/f{i}", b"")
        archive.writestr(GOOD[0], GOOD[1])
    return path


def test_too_many_entries_are_a_per_target_error(many_entries: Path) -> None:
    with pytest.raises(BundleError, match=r"has 100002 entries, more than the cap of 100000"):
        open_bundle(many_entries)


def test_many_entries_under_a_raised_cap_are_read_through_zip64(many_entries: Path) -> None:
    inventory = _scan(many_entries, Limits(max_entries=200_000))
    assert _names(inventory) == {"lodash"} and inventory.errors == ()
    assert inventory.files_seen == 100_002


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a zip file at all\n" * 10, "is not a readable zip archive"),
        (b"", "is not a readable zip archive"),
        (b"PK\x05\x06" + b"\x00" * 10, "is not a readable zip archive"),
    ],
)
def test_not_a_zip_is_a_per_target_error(work: Path, content: bytes, message: str) -> None:
    (work / "bad.zip").write_bytes(content)
    with pytest.raises(BundleError, match=message):
        open_bundle(work / "bad.zip")


def test_a_truncated_zip_is_a_per_target_error(work: Path) -> None:
    data = write_zip(work / "whole.zip", [GOOD, GOOD_PY]).read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        (work / "cut.zip").write_bytes(data[:cut])
        with pytest.raises(BundleError, match="is not a readable zip archive"):
            open_bundle(work / "cut.zip")


def test_missing_and_directory_bundles_are_per_target_errors(work: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        open_bundle(work / "absent.zip")
    with pytest.raises(BundleError, match="is a directory"):
        open_bundle(work)


def test_encrypted_and_unknown_method_members_are_per_member_errors(work: Path) -> None:
    members = [
        Raw(b"node_modules/enc/package.json", b"\x00" * 40, flags=0x1),
        Raw(b"node_modules/aes/package.json", b"\x00" * 40, method=99),
        Raw(GOOD[0].encode(), GOOD[1]),
    ]
    (work / "enc.zip").write_bytes(raw_zip(members))
    inventory = _scan(work / "enc.zip")
    assert _names(inventory) == {"lodash"}
    assert _errors(inventory) == {
        "/node_modules/enc/package.json": "member is encrypted",
        "/node_modules/aes/package.json": "member uses compression method 99, which is not supported",
    }


def test_a_damaged_member_is_a_per_file_error(work: Path) -> None:
    good = package_json("lodash", "4.17.20")
    data = bytearray(
        raw_zip([Raw(b"node_modules/dmg/package.json", good), Raw(GOOD_PY[0].encode(), GOOD_PY[1])])
    )
    data[data.index(good) + 2] ^= 0xFF  # stored bytes no longer match their CRC
    (work / "damaged.zip").write_bytes(bytes(data))
    inventory = _scan(work / "damaged.zip")
    assert _names(inventory) == {"six"}
    assert _errors(inventory)["/node_modules/dmg/package.json"].startswith(
        "npm: cannot read zip member: Bad CRC"
    )


def test_symlinks_are_recorded_never_walked_and_never_leave_the_bundle(work: Path) -> None:
    path = write_zip(work / "links.zip", [GOOD, ("real/os-release", b"ID=alpine\n")])
    for name, target in (
        ("etc/os-release", "../real/os-release"),
        ("lib", "node_modules"),
        ("escape", "../../../etc/passwd"),
        ("abs", "/etc/passwd"),
        ("loop", "loop"),
    ):
        symlink(path, name, target)
    with ZipTarget(path) as bundle:
        assert bundle.symlinks == {"etc/os-release", "lib", "escape", "abs", "loop"}
        assert {info.path for info in bundle.walk()} == {GOOD[0], "real/os-release"}
        assert bundle.read_bytes("lib/lodash/package.json", 1000) == GOOD[1]
        for name, code in (("escape", errno.EXDEV), ("abs", errno.EXDEV), ("loop", errno.ELOOP)):
            with pytest.raises(OSError) as caught:
                bundle.open(name)
            assert caught.value.errno == code
        with pytest.raises(OSError, match="outside the bundle"):
            bundle.open("../etc/passwd")
        inventory = collect_inventory(bundle, workers=1)
    assert inventory.os is not None and inventory.os.id == "alpine"
    assert _names(inventory) == {"lodash"} and inventory.errors == ()


def test_a_name_flagged_utf8_that_is_not_is_a_per_target_error(work: Path) -> None:
    (work / "utf8.zip").write_bytes(raw_zip([Raw(b"bad\xff/package.json", b"{}", flags=0x800)]))
    with pytest.raises(BundleError, match="is not a readable zip archive"):
        open_bundle(work / "utf8.zip")
