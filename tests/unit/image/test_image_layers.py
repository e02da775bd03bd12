"""Layers applied in a virtual tree: overrides, whiteouts, opaque directories, links, and hostile layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import LimitExceeded
from rampart.image import ImageTarget, open_image
from rampart.image.stream import ImageBomb, Limits
from unit.image.imagebuild import Entry, gz, layer, oci_image, snapshot


def _image(tmp_path: Path, *layers: list[Entry] | bytes, limits: Limits | None = None) -> ImageTarget:
    blobs = [item if isinstance(item, bytes) else layer(item) for item in layers]
    return open_image(oci_image(blobs).write_dir(tmp_path / "img"), limits=limits)


def _files(target: ImageTarget) -> dict[str, bytes]:
    return {info.path: target.read_bytes(info.path, 1 << 20) for info in target.walk()}


def _errors(target: ImageTarget) -> list[tuple[str, str]]:
    return [(e.path, e.message.split(": ", 1)[1]) for e in target.errors]


def test_later_layers_override_and_whiteouts_delete(tmp_path: Path) -> None:
    target = _image(
        tmp_path,
        [
            ("dir", "./etc"),
            ("file", "./etc/a", b"1"),
            ("file", "./etc/b", b"1"),
            ("dir", "./var/x"),
            ("file", "var/x/f", b""),
        ],
        [("file", "etc/a", b"2"), ("file", "etc/.wh.b", b""), ("file", "var/.wh.x", b"")],
    )
    assert _files(target) == {"etc/a": b"2"}
    assert target.errors == ()


def test_an_opaque_directory_hides_only_lower_layers(tmp_path: Path) -> None:
    target = _image(
        tmp_path,
        [("file", "opt/app/old", b"old"), ("file", "opt/app/sub/deep", b"old"), ("file", "opt/keep", b"k")],
        [
            ("file", "opt/app/sub/new", b"new"),
            ("file", "opt/app/.wh..wh..opq", b""),
            ("file", "opt/app/top", b"t"),
        ],
    )
    assert _files(target) == {"opt/app/sub/new": b"new", "opt/app/top": b"t", "opt/keep": b"k"}


def test_a_whiteout_does_not_delete_what_its_own_layer_wrote(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "a", b"1")], [("file", "a", b"2"), ("file", ".wh.a", b"")])
    assert _files(target) == {"a": b"2"}


def test_symlinks_resolve_inside_the_image_and_hardlinks_share_bytes(tmp_path: Path) -> None:
    target = _image(
        tmp_path,
        [("file", "usr/lib/os-release", b"ID=x\n"), ("sym", "etc/os-release", "../usr/lib/os-release")],
        [("sym", "lib", "/usr/lib"), ("link", "usr/bin/ln", "usr/lib/os-release")],
    )
    assert target.read_bytes("etc/os-release", 100) == b"ID=x\n"
    assert target.open("/lib/os-release").read() == b"ID=x\n"
    assert target.read_bytes("usr/bin/ln", 100) == b"ID=x\n"
    assert sorted(_files(target)) == ["usr/bin/ln", "usr/lib/os-release"]


def test_layer_of_names_the_layer_that_brought_the_file(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "a", b"1"), ("file", "b", b"1")], [("file", "b", b"2")])
    first, second = (ref.digest for ref in target.layers)
    assert (target.layer_of("a"), target.layer_of("b")) == (first, second)


def test_missing_files_directories_and_loops_raise_oserrors(tmp_path: Path) -> None:
    target = _image(tmp_path, [("dir", "d"), ("sym", "loop", "loop"), ("fifo", "pipe")])
    with pytest.raises(FileNotFoundError):
        target.read_bytes("nope", 10)
    for path, message in (
        ("d", "not a regular file"),
        ("loop", "too many levels"),
        ("pipe", "not a regular"),
    ):
        with pytest.raises(OSError, match=message):
            target.open(path)


def test_read_bytes_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "big", b"x" * 100)])
    with pytest.raises(LimitExceeded, match="larger than the 99-byte limit"):
        target.read_bytes("big", 99)


def test_hostile_names_are_per_entry_errors_and_the_rest_is_read(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    before = snapshot(tmp_path.parent)
    target = _image(
        tmp_path,
        [
            ("file", "../escape", b"x"),
            ("file", "/abs/passwd", b"x"),
            ("file", "a/../../b", b"x"),
            ("sym", "up", "../../../.." + str(watched)),
            ("link", "hard", "../../etc/passwd"),
            ("link", "hard2", "/nothing/here"),
            ("file", ".wh..", b""),
            ("file", "dir/.wh...", b""),
            ("file", "ok", b"fine"),
        ],
    )
    assert _files(target) == {"ok": b"fine"}
    assert _errors(target) == [
        ("/../escape", "entry name with a '..' component refused"),
        ("/abs/passwd", "absolute entry name refused"),
        ("/a/../../b", "entry name with a '..' component refused"),
        ("/up", f"symlink to {'../../../..' + str(watched)!r} leads outside the image root"),
        ("/hard", "entry name with a '..' component refused"),
        ("/hard2", "no such file or directory"),
        ("/.wh..", "whiteout naming '.' refused"),
        ("/dir/.wh...", "whiteout naming '..' refused"),
    ]
    assert snapshot(tmp_path.parent) - before == snapshot(tmp_path / "img") | {str(tmp_path / "img")}


def test_a_symlinked_directory_never_lets_a_later_layer_leave_the_root(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    target = _image(
        tmp_path,
        [("sym", "etc", str(watched)), ("sym", "var", "/tmp")],
        [("file", "etc/passwd", b"root"), ("file", "var/x", b"v")],
    )
    assert list(watched.iterdir()) == []
    files = _files(target)
    assert files[str(watched).lstrip("/") + "/passwd"] == b"root"
    assert files["tmp/x"] == b"v"
    assert target.read_bytes("etc/passwd", 10) == b"root"


def test_a_symlink_chain_leaving_the_root_is_an_error_for_that_path_only(tmp_path: Path) -> None:
    target = _image(
        tmp_path,
        [("dir", "a/b"), ("sym", "a/b/up", ".."), ("sym", "a/out", "b/up/../.."), ("file", "f", b"1")],
    )
    with pytest.raises(OSError, match="outside the image root"):
        target.open("a/out/f")
    assert target.read_bytes("a/b/up/b/up/../f", 10) == b"1"


def test_a_later_entry_through_an_escaping_link_is_an_error(tmp_path: Path) -> None:
    target = _image(
        tmp_path,
        [("dir", "a/b"), ("sym", "a/b/up", ".."), ("sym", "a/out", "b/up/../..")],
        [("file", "a/out/x", b"1"), ("file", "y", b"2")],
    )
    assert _files(target) == {"y": b"2"}
    assert _errors(target) == [("/a/out/x", "a link leads outside the image root")]


def test_duplicate_entries_keep_the_last_and_say_so(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "a", b"first"), ("file", "a", b"second")])
    assert _files(target) == {"a": b"second"}
    assert _errors(target) == [("/a", "duplicate entry in one layer; the later one is used")]


def test_a_gzip_bomb_fails_the_image_with_a_clear_error(tmp_path: Path) -> None:
    bomb = gz(layer([("file", "zeros", b"\0" * (8 << 20))]))
    with pytest.raises(ImageBomb, match=r"decompresses more than 200:1 \(compression bomb\?\)"):
        _image(tmp_path, bomb)


def test_caps_on_entries_and_total_bytes(tmp_path: Path) -> None:
    many = [("file", f"f{n}", b"") for n in range(20)]
    with pytest.raises(ImageBomb, match="more than 10 entries"):
        _image(tmp_path, many, limits=Limits(max_entries=10))
    big = [("file", "big", b"x" * 100_000)]
    with pytest.raises(ImageBomb, match="larger than the 50000-byte cap"):
        open_image(tmp_path / "img", limits=Limits(max_total_bytes=50_000)) if False else None
        _image(tmp_path / "..", big, limits=Limits(max_total_bytes=50_000))


def test_a_truncated_layer_keeps_what_came_before_and_later_layers_apply(tmp_path: Path) -> None:
    whole = layer([("file", "early", b"e" * 600), ("file", "late", b"l" * 5000)])
    cut = whole[: 512 * 4]
    target = _image(tmp_path, cut, [("file", "next", b"n")])
    assert _files(target) == {"early": b"e" * 600, "next": b"n"}
    assert len(target.errors) == 1
    assert "ends early: unexpected end of data" in target.errors[0].message


def test_a_layer_cut_between_members_is_known_by_its_missing_end_marker(tmp_path: Path) -> None:
    whole = layer([("file", "early", b"e" * 600), ("file", "late", b"l" * 5000)])
    target = _image(tmp_path, whole[: 512 * 3], [("file", "next", b"n")])
    assert _files(target) == {"next": b"n"}
    assert "ends early: truncated tar (no end-of-archive marker)" in target.errors[0].message


def test_a_truncated_gzip_layer_is_a_per_layer_error(tmp_path: Path) -> None:
    packed = gz(layer([("file", "a", bytes(range(256)) * 400)]))
    target = _image(tmp_path, packed[: len(packed) // 2], [("file", "next", b"n")])
    assert _files(target) == {"next": b"n"}
    assert "gzip layer ends early" in target.errors[0].message


def test_a_layer_that_is_no_tar_is_a_per_layer_error(tmp_path: Path) -> None:
    target = _image(tmp_path, b"\x07" * 2048, [("file", "next", b"n")])
    assert _files(target) == {"next": b"n"}
    assert "ends early" in target.errors[0].message


def test_file_reads_over_the_in_memory_cap_are_refused(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "big", b"x" * 5000)], limits=Limits(max_file_bytes=4096))
    assert [info.path for info in target.walk()] == ["big"]
    with pytest.raises(LimitExceeded, match="4096-byte in-memory cap"):
        target.open("big")


def test_long_pax_names_are_normalised_like_short_ones(tmp_path: Path) -> None:
    target = _image(tmp_path, [("file", "./" + "d" * 150 + "/f", b"long")])
    assert _files(target) == {"d" * 150 + "/f": b"long"}


def test_an_entry_replacing_a_directory_is_seen_by_the_entries_after_it_in_the_same_layer(
    tmp_path: Path,
) -> None:
    target = _image(
        tmp_path,
        [
            ("file", "a/x", b"old"),
            ("sym", "a", "b"),
            ("file", "a/y", b"through the link"),
            ("file", "b/.wh.y", b""),
            ("file", "c/z", b"z"),
            ("file", "c", b"now a file"),
            ("file", "c/w", b"refused"),
        ],
    )
    assert _files(target) == {"b/y": b"through the link", "c": b"now a file"}
    assert target.read_bytes("a/y", 100) == b"through the link"
    assert [path for path, _ in _errors(target)] == ["/c/w"]
