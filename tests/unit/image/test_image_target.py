"""ImageTarget under the real extractors: the same packages as the directory the image was made from."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from rampart.image import ImageSource, ImageTarget, LayerRef, open_image
from rampart.image.attribution import layer_of_package
from rampart.image.layout import LayoutDirectory, OciImage
from rampart.image.stream import Limits
from rampart.inventory import collect_inventory
from rampart.model import Package
from rampart.target import DirectoryTarget
from unit.image.imagebuild import docker_save, gz, layer, oci_image, snapshot


def _pack(root: Path) -> bytes:
    """``root`` as a layer tar (links kept as links), names like ``./usr/lib/...``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(root, arcname=".")
    return out.getvalue()


def _found(packages: tuple[Package, ...]) -> set[tuple[str, str, str, str]]:
    return {(p.ecosystem, p.name, p.version, p.location) for p in packages}


def test_a_packed_debian_rootfs_gives_the_same_packages_as_the_directory(
    debian11_root: Path, rootfs_lib: ModuleType, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    directory = collect_inventory(DirectoryTarget(debian11_root), workers=1)
    base = _pack(debian11_root)
    update = layer([("file", "var/lib/dpkg/.wh.nothing", b""), ("file", "tmp/note", b"later layer")])
    for image in (
        open_image(oci_image([gz(base), update]).write_dir(tmp_path / "layout")),
        open_image(oci_image([base, gz(update)]).write_tar(tmp_path / "oci.tar")),
        open_image(docker_save(tmp_path / "save.tar", [base, update])),
    ):
        with image:
            inventory = collect_inventory(image)
        assert inventory.errors == ()
        assert inventory.os == directory.os
        assert _found(inventory.packages) == _found(directory.packages)
        assert {(e, n, v) for e, n, v, _ in _found(inventory.packages)} == rootfs_lib.DEBIAN11_EXPECTED
        assert inventory.files_seen == directory.files_seen + 1
        assert image.layer_of("var/lib/dpkg/status") == image.layers[0].digest
        assert image.layer_of("tmp/note") == image.layers[1].digest
    made = {str(tmp_path / name) for name in ("layout", "oci.tar", "save.tar")}
    assert {
        p for p in snapshot(tmp_path) - before if not p.startswith(str(tmp_path / "layout") + "/")
    } == made


def test_a_package_removed_by_a_later_layer_is_not_found(debian11_root: Path, tmp_path: Path) -> None:
    removal = layer([("file", "opt/app/node_modules/.wh.lodash", b"")])
    image = open_image(oci_image([_pack(debian11_root), removal]).write_dir(tmp_path / "img"))
    names = {p.name for p in collect_inventory(image).packages}
    assert "lodash" not in names
    assert {"express", "bash", "requests"} <= names


def test_walk_asks_the_filter_once_per_directory_and_counts_every_file(tmp_path: Path) -> None:
    image = open_image(
        oci_image([layer([("file", "a/x", b"1"), ("file", "a/y", b"2"), ("file", "b/z", b"3")])]).write_dir(
            tmp_path / "img"
        )
    )
    asked: list[str] = []

    def wanted(directory: str) -> Callable[[str], object]:
        asked.append(directory)
        return lambda name: name == "y"

    assert [info.path for info in image.walk(wanted)] == ["a/y"]
    assert sorted(asked) == ["", "a", "b"]
    assert image.files_walked == 3
    assert image.name == str(tmp_path / "img")


class _Counting:
    """An image source that counts the blobs opened through it."""

    def __init__(self, inner: ImageSource) -> None:
        self.inner, self.name, self.opened = inner, inner.name, 0

    def manifest(self) -> dict[str, Any]:
        return self.inner.manifest()

    def config(self) -> dict[str, Any]:
        return self.inner.config()

    def layers(self) -> list[LayerRef]:
        return self.inner.layers()

    def open_blob(self, digest: str) -> BinaryIO:
        self.opened += 1
        return self.inner.open_blob(digest)


def _counting(tmp_path: Path, limits: Limits | None = None) -> tuple[_Counting, ImageTarget]:
    files = [("file", "usr/lib/os-release", b"ID=x\n"), ("sym", "etc/os-release", "../usr/lib/os-release")]
    files += [("file", f"var/lib/dpkg/f{n}", bytes([n]) * 1000) for n in range(5)]
    root = oci_image([layer(files), layer([("file", "etc/late", b"late")])]).write_dir(tmp_path / "img")
    source = _Counting(OciImage(LayoutDirectory(str(root))))
    return source, ImageTarget(source, limits)


def test_os_release_is_kept_while_layers_are_applied(tmp_path: Path) -> None:
    source, image = _counting(tmp_path)
    assert source.opened == 2
    assert image.read_bytes("etc/os-release", 100) == b"ID=x\n"
    assert source.opened == 2
    assert image.read_bytes("etc/late", 100) == b"late"
    assert source.opened == 3


def test_a_walk_reads_each_layer_once_and_drops_its_bytes_after(tmp_path: Path) -> None:
    source, image = _counting(tmp_path)
    seen = {info.path: image.read_bytes(info.path, 5000) for info in image.walk()}
    assert len(seen) == 7
    assert seen["var/lib/dpkg/f3"] == b"\3" * 1000
    assert source.opened == 4
    assert image._cache == {}


def test_an_inventory_reads_each_layer_only_once(debian11_root: Path, tmp_path: Path) -> None:
    update = layer([("file", "opt/app/node_modules/.wh.lodash", b""), ("file", "tmp/note", b"later")])
    root = oci_image([gz(_pack(debian11_root)), update]).write_dir(tmp_path / "img")
    source = _Counting(OciImage(LayoutDirectory(str(root))))
    image = ImageTarget(source)
    names = {p.name for p in collect_inventory(image, workers=1).packages}
    assert {"bash", "express", "requests"} <= names and "lodash" not in names
    assert (source.opened, image.layers_reread) == (2, 0)
    assert len(image._kept) == 0


def test_files_beyond_the_cache_budget_are_read_again_from_their_layer(tmp_path: Path) -> None:
    source, image = _counting(tmp_path, Limits(cache_bytes=2500))
    seen = {info.path: image.read_bytes(info.path, 5000) for info in image.walk()}
    assert seen["var/lib/dpkg/f4"] == b"\4" * 1000
    assert source.opened == 4 + 3


def test_a_dpkg_package_is_traced_to_its_own_list_file(debian11_root: Path, tmp_path: Path) -> None:
    status = (debian11_root / "var/lib/dpkg/status").read_bytes()
    upgrade = layer(
        [
            ("file", "var/lib/dpkg/status", status),
            ("file", "var/lib/dpkg/info/bash.list", b"/bin/bash\n"),
            ("file", "var/lib/dpkg/info/libc6:amd64.list", b"/lib/libc.so.6\n"),
        ]
    )
    image = open_image(oci_image([_pack(debian11_root), upgrade]).write_dir(tmp_path / "img"))
    first, second = (ref.digest for ref in image.layers)
    layers = {p.name: layer_of_package(image, p) for p in collect_inventory(image, workers=1).packages}
    assert (layers["bash"], layers["libc6"], layers["openssl"]) == (second, second, second)
    assert (layers["lodash"], layers["requests"]) == (first, first)
    ghost = Package("ghost", "1", "npm", "/nowhere/package.json", "npm")
    assert layer_of_package(image, ghost) is None
