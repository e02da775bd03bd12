"""DirectoryTarget: one walk that never leaves the root, chroot-like opens, per-directory errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rampart.errors import LimitExceeded
from rampart.target import DirectoryTarget
from unit.target.unprivileged import run_unprivileged


def _paths(target: DirectoryTarget) -> set[str]:
    return {info.path for info in target.walk()}


def _tree(root: Path) -> Path:
    (root / "usr/lib").mkdir(parents=True)
    (root / "usr/lib/real").write_text("real")
    (root / "etc").mkdir()
    (root / "etc/hosts").write_text("hosts")
    return root


def test_walk_yields_each_regular_file_once_with_size_and_mode(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "lib").symlink_to("usr/lib")
    (root / "etc/link").symlink_to("hosts")
    os.mkfifo(root / "etc/fifo")
    infos = {info.path: info for info in DirectoryTarget(root).walk()}
    assert set(infos) == {"usr/lib/real", "etc/hosts"}
    assert infos["usr/lib/real"].size == 4
    assert infos["etc/hosts"].mode & 0o777 == (root / "etc/hosts").stat().st_mode & 0o777


def test_walk_does_not_follow_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    root = _tree(tmp_path / "root")
    (root / "escape").symlink_to(outside)
    assert _paths(DirectoryTarget(root)) == {"usr/lib/real", "etc/hosts"}


def test_absolute_link_resolves_inside_the_root(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "etc/abs").symlink_to("/usr/lib/real")
    with DirectoryTarget(root).open("etc/abs") as handle:
        assert handle.read() == b"real"


def test_dotdot_cannot_climb_above_the_root(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("secret")
    root = _tree(tmp_path / "root")
    (root / "etc/up").symlink_to("../../../../secret")
    (root / "secret").write_text("inside")
    target = DirectoryTarget(root)
    assert target.read_bytes("etc/up", 100) == b"inside"
    assert target.read_bytes("../../secret", 100) == b"inside"


def test_link_through_intermediate_directory_link(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "lib").symlink_to("/usr/lib")
    assert DirectoryTarget(root).read_bytes("lib/real", 10) == b"real"


def test_link_loop_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("/a")
    with pytest.raises(OSError, match="symbolic links"):
        DirectoryTarget(root).open("a")


def test_open_refuses_directories_fifos_and_missing_files(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    os.mkfifo(root / "fifo")
    target = DirectoryTarget(root)
    with pytest.raises(OSError, match="regular file"):
        target.open("fifo")
    with pytest.raises(OSError, match="regular file"):
        target.open("usr")
    with pytest.raises(FileNotFoundError):
        target.open("etc/missing")
    with pytest.raises(NotADirectoryError):
        target.open("etc/hosts/x")


def test_read_bytes_limit(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    target = DirectoryTarget(root)
    assert target.read_bytes("etc/hosts", 5) == b"hosts"
    with pytest.raises(LimitExceeded):
        target.read_bytes("etc/hosts", 4)


def test_unreadable_directory_becomes_an_error_and_walk_goes_on(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "locked").mkdir()
    (root / "locked/file").write_text("x")
    (root / "locked").chmod(0)
    code = (
        "import json; from rampart.target.directory import DirectoryTarget\n"
        f"t = DirectoryTarget({str(root)!r}); paths = sorted(f.path for f in t.walk())\n"
        "print(json.dumps([paths, [e.path for e in t.errors]]))"
    )
    try:
        paths, errors = json.loads(run_unprivileged(code))
    finally:
        (root / "locked").chmod(0o755)
    assert set(paths) == {"usr/lib/real", "etc/hosts"}
    assert errors == ["/locked"]


def test_vanished_directory_becomes_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    target = DirectoryTarget(root)
    walk = target.walk()
    first = next(walk)
    for leftover in ("usr/lib/real", "etc/hosts"):
        if leftover != first.path:
            (root / leftover).unlink()
            (root / leftover).parent.rmdir()
    list(walk)
    assert len(target.errors) == 1
    assert "cannot read directory" in target.errors[0].message


def test_skip_set_is_neither_walked_nor_opened(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "proc").mkdir()
    (root / "proc/environ").write_text("SECRET=1")
    (root / "etc/env").symlink_to("/proc/environ")
    target = DirectoryTarget(root, skip=frozenset({"proc"}))
    assert _paths(target) == {"usr/lib/real", "etc/hosts"}
    with pytest.raises(OSError, match="excluded"):
        target.open("etc/env")


def test_walk_of_a_deep_tree_is_iterative(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(300):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "leaf").write_text("x")
    assert len(_paths(DirectoryTarget(tmp_path))) == 1


def test_permission_denied_directory_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path.endswith("/etc"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    target = DirectoryTarget(root)
    assert _paths(target) == {"usr/lib/real"}
    assert [(e.path, e.message) for e in target.errors] == [
        ("/etc", "cannot read directory: Permission denied")
    ]
