"""ZipTarget under the real extractors: Python and Node dependencies at any depth, lockfiles and jars."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from rampart.bundle import ZipTarget, open_bundle
from rampart.inventory import collect_inventory
from rampart.model import Inventory
from rampart.target import DirectoryTarget
from unit.bundle.bundlebuild import Entries, jar, metadata, package_json, pom, write_zip
from unit.image.imagebuild import snapshot

LAYER: Entries = [
    (
        "python/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA",
        metadata("requests", "2.31.0"),
    ),
    ("python/lib/python3.12/site-packages/requests/__init__.py", b"# code\n"),
    ("vendor/site-packages/Jinja2-3.1.2.dist-info/METADATA", metadata("Jinja2", "3.1.2")),
    ("app/.venv/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info/METADATA", metadata("PyYAML", "6.0.1")),
    ("node_modules/lodash/package.json", package_json("lodash", "4.17.20")),
    ("node_modules/a/node_modules/b/node_modules/minimist/package.json", package_json("minimist", "1.2.5")),
    ("nodejs/node_modules/@aws-sdk/client-s3/package.json", package_json("@aws-sdk/client-s3", "3.400.0")),
    ("nodejs/node18/node_modules/axios/package.json", package_json("axios", "0.21.0")),
    ("requirements.txt", b"urllib3==1.26.5\n"),
    (
        "java/lib/app.jar",
        jar([pom("org.example", "app", "1.0"), ("lib/inner.jar", jar([pom("org.x", "y", "2.1")]))]),
    ),
    ("handler.py", b"def handler(event, context):\n    return 1\n"),
]
EXPECTED = {
    ("PyPI", "requests", "2.31.0"),
    ("PyPI", "jinja2", "3.1.2"),
    ("PyPI", "pyyaml", "6.0.1"),
    ("PyPI", "urllib3", "1.26.5"),
    ("npm", "lodash", "4.17.20"),
    ("npm", "minimist", "1.2.5"),
    ("npm", "@aws-sdk/client-s3", "3.400.0"),
    ("npm", "axios", "0.21.0"),
    ("Maven", "org.example:app", "1.0"),
    ("Maven", "org.x:y", "2.1"),
}


def _found(inventory: Inventory) -> set[tuple[str, str, str, str]]:
    return {(p.ecosystem, p.name, p.version, p.location) for p in inventory.packages}


def _unpacked(root: Path, entries: Entries) -> Path:
    for name, data in entries:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_a_bundle_gives_the_same_packages_as_its_unpacked_tree(tmp_path: Path) -> None:
    bundle = write_zip(tmp_path / "function.zip", LAYER)
    before = snapshot(tmp_path)
    with open_bundle(bundle) as target:
        inventory = collect_inventory(target, workers=1)
    assert snapshot(tmp_path) == before  # nothing unpacked anywhere
    directory = collect_inventory(DirectoryTarget(_unpacked(tmp_path / "tree", LAYER)), workers=1)
    assert inventory.errors == ()
    assert {(e, n, v) for e, n, v, _ in _found(inventory)} == EXPECTED
    assert _found(inventory) == _found(directory)
    assert inventory.files_seen == directory.files_seen == len(LAYER)
    assert inventory.target == str(bundle)


def test_zip64_members_and_stored_members_are_read(tmp_path: Path) -> None:
    import zipfile

    z64 = write_zip(tmp_path / "z64.zip", LAYER, zip64=True)
    for path in (z64, write_zip(tmp_path / "stored.zip", LAYER, zipfile.ZIP_STORED)):
        with open_bundle(path) as target:
            inventory = collect_inventory(target, workers=1)
        assert {(e, n, v) for e, n, v, _ in _found(inventory)} == EXPECTED


def test_walk_filters_by_directory_and_name_and_counts_every_file(tmp_path: Path) -> None:
    target = ZipTarget(write_zip(tmp_path / "b.zip", LAYER))
    seen: list[str] = []

    def wanted(directory: str) -> Callable[[str], object]:
        seen.append(directory)
        return lambda name: name == "package.json"

    paths = [info.path for info in target.walk(wanted)]
    assert sorted(paths) == sorted(name for name, _ in LAYER if name.endswith("package.json"))
    assert target.files_walked == len(LAYER)
    assert "" in seen and "node_modules/a/node_modules/b" in seen
    info = next(iter(target.walk()))
    assert stat.S_ISREG(info.mode) and info.mode & 0o777 == 0o644
    target.close()


def test_reads_give_the_bytes_and_respect_the_limit(tmp_path: Path) -> None:
    from rampart.errors import LimitExceeded

    with ZipTarget(write_zip(tmp_path / "b.zip", LAYER)) as target:
        assert target.read_bytes("requirements.txt", 100) == b"urllib3==1.26.5\n"
        assert (
            target.open("./python//lib/python3.12/site-packages/requests/__init__.py").read() == b"# code\n"
        )
        with pytest.raises(LimitExceeded):
            target.read_bytes("requirements.txt", 4)
        with pytest.raises(FileNotFoundError):
            target.read_bytes("etc/os-release", 100)
        with pytest.raises(IsADirectoryError):
            target.read_bytes("node_modules", 100)


TOP_LEVEL: Entries = [
    ("urllib3-2.0.7.dist-info/METADATA", metadata("urllib3", "2.0.7")),
    ("python/six-1.16.0.dist-info/METADATA", metadata("six", "1.16.0")),
]


def test_top_level_dist_info_as_pip_install_t_leaves_it(tmp_path: Path) -> None:
    with open_bundle(write_zip(tmp_path / "b.zip", TOP_LEVEL)) as target:
        inventory = collect_inventory(target, workers=1)
    assert {(p.name, p.version) for p in inventory.packages} == {("urllib3", "2.0.7"), ("six", "1.16.0")}
