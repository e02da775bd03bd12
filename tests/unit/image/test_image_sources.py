"""Image sources: OCI layout directories, oci-archives and docker save tarballs, platforms and digests."""

from __future__ import annotations

from pathlib import Path

import pytest
import zstandard

from rampart.image import ImageError, Platform, open_image
from rampart.image.source import DigestMismatch
from unit.image.imagebuild import Layout, docker_save, gz, layer, oci_image

HELLO = layer([("dir", "etc"), ("file", "etc/hello", b"hello\n")])


def test_a_layout_directory_is_read_in_place(tmp_path: Path) -> None:
    target = open_image(oci_image([HELLO]).write_dir(tmp_path / "img"))
    assert [info.path for info in target.walk()] == ["etc/hello"]
    assert target.read_bytes("etc/hello", 100) == b"hello\n"


def test_an_oci_archive_is_read_without_extracting(tmp_path: Path) -> None:
    archive = oci_image([gz(HELLO)]).write_tar(tmp_path / "img.tar")
    before = sorted(p.name for p in tmp_path.iterdir())
    with open_image(archive) as target:
        assert target.read_bytes("etc/hello", 100) == b"hello\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_docker_save_tarball_with_plain_and_gzip_layers(tmp_path: Path) -> None:
    second = layer([("file", "etc/other", b"x")])
    path = docker_save(tmp_path / "save.tar", [HELLO, second], stored=[HELLO, gz(second)])
    with open_image(path) as target:
        assert sorted(info.path for info in target.walk()) == ["etc/hello", "etc/other"]
        assert target.read_bytes("etc/other", 10) == b"x"


def test_a_zstd_layer_is_read_with_the_zstandard_package(tmp_path: Path) -> None:
    packed = zstandard.ZstdCompressor().compress(HELLO)
    target = open_image(oci_image([packed]).write_dir(tmp_path / "img"))
    assert target.read_bytes("etc/hello", 100) == b"hello\n"


def test_the_platform_is_chosen_from_a_multi_platform_index(tmp_path: Path) -> None:
    out = Layout()
    arm = out.image([layer([("file", "arch", b"arm64")])], "linux/arm64/v8")
    amd = out.image([layer([("file", "arch", b"amd64")])], "linux/amd64")
    root = out.index([arm, amd]).write_dir(tmp_path / "img")
    assert open_image(root).read_bytes("arch", 10) == b"amd64"
    assert open_image(root, Platform.parse("linux/arm64")).read_bytes("arch", 10) == b"arm64"
    with pytest.raises(
        ImageError, match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)"
    ):
        open_image(root, Platform.parse("linux/s390x"))


def test_a_nested_index_is_followed(tmp_path: Path) -> None:
    out = Layout()
    inner = out.index([out.image([HELLO])]).files["index.json"]
    outer = {"mediaType": "application/vnd.oci.image.index.v1+json", **out.blob(inner)}
    target = open_image(out.index([outer]).write_dir(tmp_path / "img"))
    assert target.read_bytes("etc/hello", 100) == b"hello\n"


def test_a_bad_platform_text_is_refused() -> None:
    with pytest.raises(ImageError, match="expected os/arch"):
        Platform.parse("linux")


def test_a_layer_blob_with_the_wrong_digest_fails_the_image(tmp_path: Path) -> None:
    out = Layout()
    manifest = out.image([HELLO])
    forged = HELLO.replace(b"hello\n", b"HELLO\n")
    out.blob(HELLO, stored=forged)
    with pytest.raises(DigestMismatch, match="does not match its digest"):
        open_image(out.index([manifest]).write_dir(tmp_path / "img"))


def test_a_blob_longer_than_its_descriptor_fails_the_image(tmp_path: Path) -> None:
    out = Layout()
    manifest = out.image([HELLO])
    out.blob(HELLO, stored=HELLO + b"\0" * 512)
    with pytest.raises(DigestMismatch, match="larger than its declared"):
        open_image(out.index([manifest]).write_dir(tmp_path / "img"))


def test_a_docker_save_layer_not_matching_its_diff_id_fails(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "save.tar", [HELLO], stored=[layer([("file", "evil", b"x")])])
    with pytest.raises(DigestMismatch):
        open_image(path)


def test_a_missing_blob_is_a_one_line_error(tmp_path: Path) -> None:
    root = oci_image([HELLO]).write_dir(tmp_path / "img")
    for blob in (root / "blobs/sha256").iterdir():
        if blob.stat().st_size == len(HELLO):
            blob.unlink()
    with pytest.raises(ImageError, match="cannot open blobs/sha256/"):
        open_image(root)


def test_a_blob_that_is_a_symlink_is_not_followed(tmp_path: Path) -> None:
    root = oci_image([HELLO]).write_dir(tmp_path / "img")
    for blob in (root / "blobs/sha256").iterdir():
        if blob.stat().st_size == len(HELLO):
            blob.unlink()
            blob.symlink_to("/etc/passwd")
    with pytest.raises(ImageError, match="cannot open"):
        open_image(root)


def test_paths_that_are_no_image_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageError, match="no oci-layout file"):
        open_image(tmp_path / "empty")
    with pytest.raises(ImageError, match="not a readable image tarball"):
        open_image(tmp_path / "junk.tar")
    with pytest.raises(ImageError, match="does not exist"):
        open_image(tmp_path / "missing")


def test_malformed_index_and_manifest_are_one_line_errors(tmp_path: Path) -> None:
    root = oci_image([HELLO]).write_dir(tmp_path / "img")
    (root / "index.json").write_text("{not json")
    with pytest.raises(ImageError, match=r"index\.json is not valid JSON"):
        open_image(root)
    (root / "index.json").write_text('{"manifests": [{"digest": "md5:abc", "size": 1}]}')
    with pytest.raises(ImageError, match="only sha256 is read"):
        open_image(root)
    (root / "index.json").write_text('{"manifests": []}')
    with pytest.raises(ImageError, match="lists no manifests"):
        open_image(root)


def test_a_docker_save_with_several_images_asks_for_a_tag(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "save.tar", [HELLO], tags=["a:1", "b:2"], copies=2)
    with open_image(path, tag="copy:1") as target:
        assert target.read_bytes("etc/hello", 10) == b"hello\n"
    with pytest.raises(ImageError, match=r"choose one image of the tarball \(available: a:1, b:2, copy:1\)"):
        open_image(path)


def test_an_unknown_tarball_is_refused(tmp_path: Path) -> None:
    from unit.image.imagebuild import write_tar

    with pytest.raises(ImageError, match="neither an oci-archive nor a docker save"):
        open_image(write_tar(tmp_path / "x.tar", {"readme": b"hi"}))
