"""File bytes kept while an image's layers are applied: the extractors' policy, overrides, caps, no stale bytes."""

from __future__ import annotations

from pathlib import Path

from rampart.image import ImageTarget
from rampart.image.keep import ExtractorPolicy, KeptBytes, extractor_policy
from rampart.image.layers import build_tree
from rampart.image.layout import LayoutDirectory, OciImage
from rampart.image.stream import Limits
from rampart.image.tree import Dir, File
from rampart.inventory.table import EXTRACTORS
from unit.image.imagebuild import Entry, layer, oci_image


def _keep_all(path: str, mode: int, size: int) -> bool:
    return True


def _source(tmp_path: Path, *layers: list[Entry] | bytes) -> OciImage:
    blobs = [item if isinstance(item, bytes) else layer(item) for item in layers]
    return OciImage(LayoutDirectory(str(oci_image(blobs).write_dir(tmp_path / "img"))))


def _kept_bytes(
    tmp_path: Path, *layers: list[Entry] | bytes, cap: int = 1 << 20
) -> tuple[set[bytes], KeptBytes]:
    source = _source(tmp_path, *layers)
    built = build_tree(source, source.layers(), Limits(cache_bytes=cap), _keep_all)
    kept = built.kept
    files = _tree_files(built.root)
    assert {(node.source, node.offset) for node in files} >= {key for key in _keys(kept, files)}
    return {kept.get((node.source, node.offset)) or b"" for node in files} - {b""}, kept


def _tree_files(root: Dir) -> list[File]:
    found, pending = [], [root]
    while pending:
        for child in pending.pop().children.values():
            if isinstance(child, Dir):
                pending.append(child)
            elif isinstance(child, File):
                found.append(child)
    return found


def _keys(kept: KeptBytes, files: list[File]) -> set[tuple[int, int]]:
    return {(node.source, node.offset) for node in files if (node.source, node.offset) in kept}


def test_the_extractor_policy_keeps_what_some_extractor_reads() -> None:
    policy = ExtractorPolicy(EXTRACTORS)
    assert policy("var/lib/dpkg/status", 0o100644, 5000)
    assert policy("etc/os-release", 0o100644, 100)
    assert policy("usr/lib/python3/dist-packages/yaml-6.0.dist-info/METADATA", 0o100644, 900)
    assert policy("usr/bin/app", 0o100755, 5000)  # a possible Go binary: executable
    assert not policy("usr/bin/app", 0o100644, 5000)
    assert not policy("usr/share/doc/bash/README", 0o100644, 5000)
    assert not policy("var/log/dpkg.log", 0o100644, 5000)
    assert extractor_policy()("var/lib/dpkg/status", 0o100644, 1)


def test_an_overridden_file_gives_its_bytes_back(tmp_path: Path) -> None:
    datas, kept = _kept_bytes(
        tmp_path, [("file", "a", b"old" * 100), ("file", "b", b"b")], [("file", "a", b"new")]
    )
    assert datas == {b"new", b"b"}
    assert kept.used == 4
    assert len(kept) == 2


def test_whiteouts_and_opaque_directories_give_bytes_back(tmp_path: Path) -> None:
    datas, kept = _kept_bytes(
        tmp_path,
        [("file", "x/gone", b"1" * 10), ("file", "d/deep/f", b"2" * 10), ("file", "d/g", b"3" * 10)],
        [("file", "x/.wh.gone", b""), ("file", "d/.wh..wh..opq", b""), ("file", "d/new", b"4")],
    )
    assert datas == {b"4"}
    assert (len(kept), kept.used) == (1, 1)


def test_a_directory_replaced_by_a_file_gives_back_everything_below(tmp_path: Path) -> None:
    datas, kept = _kept_bytes(tmp_path, [("file", "d/a/b", b"x" * 50)], [("file", "d", b"file now")])
    assert datas == {b"file now"}
    assert kept.used == len(b"file now")


def test_a_hard_link_keeps_shared_bytes_until_both_names_are_gone(tmp_path: Path) -> None:
    first = [("file", "bin/tool", b"T" * 64), ("link", "bin/alias", "bin/tool")]
    datas, kept = _kept_bytes(tmp_path / "one", first, [("file", "bin/.wh.tool", b"")])
    assert datas == {b"T" * 64}
    datas, kept = _kept_bytes(
        tmp_path / "two", first, [("file", "bin/.wh.tool", b""), ("file", "bin/.wh.alias", b"")]
    )
    assert (datas, len(kept), kept.used) == (set(), 0, 0)


def test_bytes_of_entries_that_never_reach_the_tree_are_dropped(tmp_path: Path) -> None:
    whole = layer([("file", "early", b"e" * 600), ("file", "late", b"l" * 5000)])
    datas, kept = _kept_bytes(
        tmp_path, [("file", "../escape", b"bad"), ("file", "a", b"1"), ("file", "a", b"2")], whole[: 512 * 5]
    )
    assert datas == {b"2", b"e" * 600}
    assert kept.used == 601


def test_the_cache_cap_bounds_the_kept_bytes_and_a_walk_reads_the_rest_again(tmp_path: Path) -> None:
    files: list[Entry] = [("file", f"f{n}", bytes([n]) * 1000) for n in range(5)]
    _, kept = _kept_bytes(tmp_path / "capped", files, cap=2500)
    assert (len(kept), kept.used) == (2, 2000)
    source = _source(tmp_path / "walked", files)
    opened: list[str] = []
    open_blob = source.open_blob
    source.open_blob = lambda digest: opened.append(digest) or open_blob(digest)  # type: ignore[method-assign]
    image = ImageTarget(source, Limits(cache_bytes=2500), keep=_keep_all)
    seen = {info.path: image.read_bytes(info.path, 5000) for info in image.walk()}
    assert seen == {f"f{n}": bytes([n]) * 1000 for n in range(5)}
    assert len(opened) == 1 + 3  # the build, then each of the three files the cap left out, one by one


def test_files_over_the_per_file_cap_are_not_kept(tmp_path: Path) -> None:
    source = _source(tmp_path, [("file", "big", b"x" * 5000), ("file", "small", b"s")])
    built = build_tree(source, source.layers(), Limits(max_file_bytes=4096), _keep_all)
    assert built.kept.used == 1


def test_a_walk_of_kept_files_reads_no_layer_twice_and_gives_the_bytes_back(tmp_path: Path) -> None:
    image = ImageTarget(_source(tmp_path, [("file", "a", b"1")], [("file", "b", b"2")]), keep=_keep_all)
    assert {info.path: image.read_bytes(info.path, 10) for info in image.walk()} == {"a": b"1", "b": b"2"}
    assert image.layers_reread == 0
    assert len(image._kept) == 0


def test_walked_files_nobody_reads_cost_no_second_pass(tmp_path: Path) -> None:
    image = ImageTarget(_source(tmp_path, [("file", "a", b"1"), ("file", "b", b"2")]))
    assert sorted(info.path for info in image.walk()) == ["a", "b"]
    assert image.layers_reread == 0
