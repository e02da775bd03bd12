"""ImageView: an image's final tree read as a SystemView (owners and modes from the tar headers), and open_view."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from rampart.errors import TargetError
from rampart.harden.imageview import ImageView
from rampart.harden.rootview import RootView
from rampart.harden.targets import close_view, open_view
from rampart.harden.view import ViewError
from rampart.image.target import ImageTarget, open_image
from unit.harden.fixture_image import build_image_view, layer_tar, write_docker_save, write_oci_layout
from unit.image.imagebuild import oci_image


def _layer(entries: list[tuple[str, bytes, int, int, int, str]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """(name, type, mode, uid, gid, data-or-linkname) entries as one layer tar."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, kind, mode, uid, gid, text in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = kind, mode, uid, gid
            data = text.encode() if kind == tarfile.REGTYPE else b""
            info.linkname = text if kind != tarfile.REGTYPE else ""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _view(tmp_path: Path, layers: list[bytes]) -> ImageView:
    return ImageView(open_image(oci_image(layers).write_dir(tmp_path)))


def test_owners_and_modes_come_from_the_final_layer(tmp_path: Path) -> None:
    first = _layer([
        ("etc", tarfile.DIRTYPE, 0o755, 0, 0, ""),
        ("etc/shadow", tarfile.REGTYPE, 0o600, 0, 42, "root:*:1::::::\n"),
        ("usr/bin/su", tarfile.REGTYPE, 0o4755, 0, 0, "elf"),
        ("home/app", tarfile.DIRTYPE, 0o750, 1000, 1000, ""),
    ])  # fmt: skip
    second = _layer([
        ("etc/shadow", tarfile.REGTYPE, 0o640, 0, 43, "root:!:1::::::\n"),
        ("usr/bin/.wh.su", tarfile.REGTYPE, 0o644, 0, 0, ""),
        ("home/app", tarfile.DIRTYPE, 0o700, 2000, 2001, ""),
        ("usr/bin/newgrp", tarfile.LNKTYPE, 0o644, 9, 9, "etc/shadow"),
    ])  # fmt: skip
    view = _view(tmp_path, [first, second])
    shadow = view.stat("/etc/shadow")
    assert shadow is not None and (shadow.kind, shadow.mode, shadow.uid, shadow.gid) == ("file", 0o640, 0, 43)
    home = view.stat("/home/app")
    assert home is not None and (home.kind, home.mode, home.uid, home.gid) == ("dir", 0o700, 2000, 2001)
    assert view.stat("/usr/bin/su") is None
    hard = view.stat("/usr/bin/newgrp")
    assert hard is not None and (hard.uid, hard.gid) == (0, 43)  # a hard link is its target's inode
    assert view.read_text("/etc/shadow") == "root:!:1::::::\n"


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_large_ids_from_pax_records_and_base_256_fields(tmp_path: Path, fmt: int) -> None:
    view = _view(tmp_path, [_layer([("big", tarfile.REGTYPE, 0o644, 3_000_000, 4_000_000, "x")], fmt)])
    entry = view.stat("/big")
    assert entry is not None and (entry.uid, entry.gid) == (3_000_000, 4_000_000)


def test_links_resolve_inside_the_image_only(tmp_path: Path) -> None:
    layer = _layer([
        ("etc/os-release", tarfile.REGTYPE, 0o644, 0, 0, "ID=debian\n"),
        ("usr/lib/os-release", tarfile.SYMTYPE, 0o777, 0, 0, "/etc/os-release"),
        ("loop", tarfile.SYMTYPE, 0o777, 0, 0, "loop"),
        ("bin", tarfile.SYMTYPE, 0o777, 0, 0, "usr/lib"),
    ])  # fmt: skip
    view = _view(tmp_path, [layer])
    assert view.read_text("/usr/lib/os-release") == "ID=debian\n"
    assert view.read_text("/bin/os-release") == "ID=debian\n"
    link = view.stat("/usr/lib/os-release", follow=False)
    assert link is not None and (link.kind, link.target) == ("link", "/etc/os-release")
    with pytest.raises(ViewError, match="too many levels"):
        view.stat("/loop")
    assert view.glob("/bin/*") == ["/bin/os-release"]
    assert view.listdir("/bin") == ["os-release"]


def test_reads_refuse_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    view = build_image_view(tmp_path, {"files": {"big": "x" * ((4 << 20) + 1)}, "dirs": {"d": {}}})
    with pytest.raises(ViewError, match="larger than 4 MiB"):
        view.read_text("/big")
    with pytest.raises(ViewError, match="not a regular file"):
        view.read_text("/d")
    assert view.read_text("/missing") is None and view.listdir("/etc/passwd") is None
    assert view.read_text("/etc/passwd/x") is None


def test_walk_glob_and_facts(tmp_path: Path) -> None:
    scenario = {"base": "none", "files": {"a/.hidden": "h", "a/b": "b"}, "links": {"a/c": "b"},
                "image": {"config": {"User": "app"}, "annotations": {"k": "v"}}}  # fmt: skip
    view = build_image_view(tmp_path, scenario)
    assert sorted(entry.path for entry in view.walk()) == ["/a", "/a/.hidden", "/a/b", "/a/c"]
    assert view.glob("/a/*") == ["/a/b", "/a/c"] and view.glob("/a/.h*") == ["/a/.hidden"]
    assert view.glob("/a/b") == ["/a/b"] and view.glob("/nope/*") == []
    assert (view.kind, view.capabilities, view.runtime) == ("image", frozenset({"image"}), None)
    assert view.image_config is not None and view.image_config["config"] == {"User": "app"}
    assert view.annotations == {"k": "v"} and view.references == ()


def test_open_view_picks_the_kind_of_target(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    assert isinstance(open_view(str(root)), RootView)
    (tmp_path / "layout").mkdir()
    layout = write_oci_layout(tmp_path / "layout", layer_tar({}), {"User": "1"}, {})
    archive = write_docker_save(tmp_path / "app.tar", layer_tar({}), {"User": "2"}, ["example/app:1"])
    for where, user in ((layout, "1"), (archive, "2")):
        view = open_view(str(where))
        try:
            assert isinstance(view, ImageView) and view.image_config is not None
            assert view.image_config["config"]["User"] == user
            assert view.read_text("/etc/os-release") is not None
        finally:
            close_view(view)


@pytest.mark.parametrize("target", ["", "  ", "./no/such/dir", "/no/such/image.tar"])
def test_bad_targets_are_one_line_errors(target: str) -> None:
    with pytest.raises(TargetError) as caught:
        open_view(target)
    assert "\n" not in caught.value.message


def test_a_file_that_is_no_image_is_a_one_line_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(TargetError) as caught:
        open_view(str(junk), platform="linux/amd64")
    assert "\n" not in caught.value.message
    with pytest.raises(TargetError, match="bad platform"):
        open_view(str(junk), platform="amd64")


@pytest.mark.parametrize("target", [None, "/", "//"])
def test_the_root_or_nothing_is_the_live_host(target: str | None) -> None:
    view = open_view(target)
    assert isinstance(view, RootView) and view.kind == "host" and view.runtime is not None
    close_view(view)


def test_configuration_files_are_fetched_in_one_pass_per_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"etc/conf.d/{n}.conf": f"value {n}\n" for n in range(20)}
    view = build_image_view(tmp_path, {"files": {**files, "opt/data": "elsewhere\n"}})
    passes: list[int] = []
    original = ImageTarget.read_bytes

    def counted(self: ImageTarget, path: str, limit: int) -> bytes:
        passes.append(1)
        return original(self, path, limit)

    monkeypatch.setattr(ImageTarget, "read_bytes", counted)
    assert [view.read_text(f"/etc/conf.d/{n}.conf") for n in range(20)] == [f"value {n}\n" for n in range(20)]
    assert passes == []  # all came from the one prefetch pass
    assert view.read_text("/opt/data") == "elsewhere\n" and passes == [1]


def test_a_looping_configuration_directory_does_not_stop_reads(tmp_path: Path) -> None:
    view = build_image_view(tmp_path, {"links": {"boot": "boot", "lib/sysctl.d": "/etc/../.."}})
    assert view.read_text("/etc/os-release") is not None
