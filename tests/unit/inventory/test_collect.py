"""collect_inventory: one walk, dispatch, per-file errors, dedup, OS first, progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from rampart.inventory import collect_inventory
from rampart.inventory.base import ExtractContext
from rampart.model import FileError, OsRelease, Package
from rampart.target import DirectoryTarget, open_target
from rampart.target.base import DirectoryFilter, FileInfo, Target


def _triples(packages: tuple[Package, ...]) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, p.name, p.version) for p in packages}


def test_debian11_rootfs(debian11_root: Path, rootfs_lib: ModuleType) -> None:
    inventory = collect_inventory(open_target(debian11_root))
    assert inventory.os == OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)", (), "bullseye")
    assert _triples(inventory.packages) == rootfs_lib.DEBIAN11_EXPECTED
    assert inventory.errors == ()
    assert inventory.target == str(debian11_root.resolve())
    assert inventory.files_seen == 15
    assert all(
        p.location.startswith("/") and not p.location.startswith(str(debian11_root))
        for p in inventory.packages
    )
    assert list(inventory.packages) == sorted(
        inventory.packages, key=lambda p: (p.ecosystem, p.name, p.version, p.location)
    )


def _write(root: Path, rel: str, data: bytes, mode: int = 0o644) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(data)
    (root / rel).chmod(mode)


def test_hostile_files_become_errors_and_the_rest_is_found(
    debian11_root: Path, rootfs_lib: ModuleType
) -> None:
    site = "opt/venv/lib/python3.9/site-packages"
    _write(debian11_root, f"{site}/broken-1.dist-info/METADATA", b"Metadata-Version: 2.1\nSummary: no name\n")
    _write(debian11_root, "opt/app/node_modules/arr/package.json", b"[1,2]")
    _write(debian11_root, "opt/app/node_modules/bad/package.json", b'{"name": "\xff"}')
    _write(debian11_root, "usr/bin/fake-elf", b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\xff" * 100, 0o755)
    status = debian11_root / "var/lib/dpkg/status"
    status.write_bytes(status.read_bytes() + b"\n\x00\x01binary junk\xff\n")
    inventory = collect_inventory(open_target(debian11_root))
    assert _triples(inventory.packages) == rootfs_lib.DEBIAN11_EXPECTED
    errors = {e.path: e.message for e in inventory.errors}
    assert set(errors) == {
        f"/{site}/broken-1.dist-info/METADATA",
        "/opt/app/node_modules/arr/package.json",
        "/opt/app/node_modules/bad/package.json",
        "/usr/bin/fake-elf",
        "/var/lib/dpkg/status",
    }
    assert errors["/opt/app/node_modules/arr/package.json"] == "npm: package.json is not a JSON object"
    assert errors["/var/lib/dpkg/status"].startswith("1 malformed stanza(s) skipped")
    assert all("\n" not in message for message in errors.values())


def test_duplicates_are_listed_once_and_os_is_read_first(tmp_path: Path) -> None:
    _write(tmp_path, "etc/os-release", b"ID=ubuntu\nVERSION_ID=22.04\n")
    stanza = b"Package: a\nStatus: install ok installed\nVersion: 1\n"
    _write(tmp_path, "var/lib/dpkg/status", stanza + b"\n" + stanza)
    inventory = collect_inventory(DirectoryTarget(tmp_path))
    assert [(p.name, p.ecosystem) for p in inventory.packages] == [("a", "Ubuntu:22.04")]


class _Exploding:
    name = "exploding"
    directory_pattern = ".*"
    name_pattern = ".*"

    def wants(self, info: FileInfo) -> bool:
        return True

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        if info.path == "boom":
            raise TypeError("a bug\nwith two lines")
        return [Package(info.path, "1", "Test", "/" + info.path, self.name)]


def test_unexpected_exception_becomes_a_one_line_error(tmp_path: Path) -> None:
    _write(tmp_path, "boom", b"")
    _write(tmp_path, "fine", b"")
    inventory = collect_inventory(DirectoryTarget(tmp_path), extractors=[_Exploding()])
    assert [p.name for p in inventory.packages] == ["fine"]
    assert [(e.path, e.message) for e in inventory.errors] == [
        ("/boom", "exploding: unexpected TypeError: a bug with two lines")
    ]


def test_walk_errors_are_included(tmp_path: Path) -> None:
    class Locked(DirectoryTarget):
        def walk(self, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
            yield from super().walk(wanted)
            self._errors.append(FileError("/locked", "cannot read directory"))

    inventory = collect_inventory(Locked(tmp_path), workers=1)
    assert [e.path for e in inventory.errors] == ["/locked"]


def test_walk_errors_met_by_workers_are_included(tmp_path: Path) -> None:
    class Locked(DirectoryTarget):
        def walk_from(self, rel: str, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
            yield from super().walk_from(rel, wanted)
            self._errors.append(FileError(f"/{rel}/locked", "cannot read directory"))

    for i in range(3):
        _write(
            tmp_path,
            f"top{i}/sub/node_modules/p{i}/package.json",
            json.dumps({"name": f"p{i}", "version": "1.0.0"}).encode(),
        )
    inventory = collect_inventory(Locked(tmp_path), workers=2)
    assert [e.path for e in inventory.errors] == [f"/top{i}/sub/locked" for i in range(3)]
    assert [p.name for p in inventory.packages] == ["p0", "p1", "p2"]


def test_parallel_and_serial_walks_find_the_same(debian11_root: Path) -> None:
    for i in range(40):
        _write(
            debian11_root,
            f"opt/app{i}/lib/node_modules/m{i}/package.json",
            json.dumps({"name": f"m{i}", "version": "2.0.0"}).encode(),
        )
    serial = collect_inventory(DirectoryTarget(debian11_root), workers=1)
    parallel = collect_inventory(DirectoryTarget(debian11_root), workers=2)
    assert serial == parallel
    assert len(serial.packages) > 40 and serial.files_seen > 40


def test_progress_is_reported(tmp_path: Path) -> None:
    for i in range(12):
        _write(tmp_path, f"d/{i}", b"")
    _write(tmp_path, "node_modules/x/package.json", json.dumps({"name": "x", "version": "1"}).encode())
    seen: list[int] = []
    inventory = collect_inventory(DirectoryTarget(tmp_path), progress=seen.append)
    assert seen[-1] == inventory.files_seen == 13


@pytest.mark.parametrize(
    "path",
    [
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/base-files",
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        "usr/lib/python3/dist-packages/PyYAML-5.3.1.egg-info/PKG-INFO",
        "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
        "opt/venv/lib/python3.11/site-packages/pip/_vendor/x-1.0.dist-info/METADATA",
        "node_modules/lodash/package.json",
        "opt/app/node_modules/@babel/core/package.json",
        "opt/app/node_modules/a/node_modules/b/package.json",
    ],
)
def test_walk_filter_lets_through_every_file_an_extractor_wants(path: str) -> None:
    from rampart.inventory.extract import WalkFilter
    from rampart.inventory.table import EXTRACTORS

    info = FileInfo(path, 1000, 0o100644)
    assert any(e.wants(info) for e in EXTRACTORS), path
    directory, _, name = path.rpartition("/")
    assert WalkFilter(EXTRACTORS)(directory)(name)


@pytest.mark.parametrize(
    "path", ["usr/share/doc/bash/changelog.gz", "usr/lib/python3/dist-packages/six.py", "opt/app/index.html"]
)
def test_walk_filter_passes_over_data_files(path: str) -> None:
    from rampart.inventory.extract import WalkFilter
    from rampart.inventory.table import EXTRACTORS

    directory, _, name = path.rpartition("/")
    assert not WalkFilter(EXTRACTORS)(directory)(name)


def test_walks_in_process_while_other_threads_run(
    debian11_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from rampart.inventory import parallel

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("forked while another thread was running")

    monkeypatch.setattr(parallel, "extract_in_parallel", refuse)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        inventory = collect_inventory(DirectoryTarget(debian11_root), workers=2)
    finally:
        stop.set()
        other.join()
    assert inventory == collect_inventory(DirectoryTarget(debian11_root), workers=1)
