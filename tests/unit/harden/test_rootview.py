"""RootView: paths resolve inside the root (links never lead out), files read bounded, the walk sees everything once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampart.harden.rootview import RootView
from rampart.harden.runtime import StaticRuntime
from rampart.harden.view import MAX_TEXT_BYTES, ViewError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc/ssh").mkdir(parents=True)
    (tmp_path / "etc/ssh/sshd_config").write_text("PermitRootLogin no\n")
    os.chmod(tmp_path / "etc/ssh/sshd_config", 0o600)
    (tmp_path / "etc/absolute").symlink_to("/etc/ssh/sshd_config")
    (tmp_path / "etc/escape").symlink_to("../../../../../../etc/hostname")
    (tmp_path / "etc/loop").symlink_to("loop")
    return tmp_path


def test_stat_reports_mode_owner_and_kind(root: Path) -> None:
    found = RootView(str(root)).stat("/etc/ssh/sshd_config")
    assert found is not None and (found.kind, found.mode, found.uid) == ("file", 0o600, os.getuid())


def test_an_absolute_link_resolves_inside_the_root(root: Path) -> None:
    assert RootView(str(root)).read_text("/etc/absolute") == "PermitRootLogin no\n"


def test_dotdot_stops_at_the_root(root: Path) -> None:
    view = RootView(str(root))
    assert (
        view.read_text("/etc/escape") is None
    )  # <root>/etc/hostname does not exist; the host's is never read
    (root / "etc/hostname").write_text("inside\n")
    assert view.read_text("/etc/escape") == "inside\n"


def test_stat_without_follow_sees_the_link(root: Path) -> None:
    found = RootView(str(root)).stat("/etc/absolute", follow=False)
    assert found is not None and (found.kind, found.target) == ("link", "/etc/ssh/sshd_config")


def test_a_link_loop_is_a_one_line_error(root: Path) -> None:
    with pytest.raises(ViewError, match="too many levels of symbolic links"):
        RootView(str(root)).stat("/etc/loop")


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "etc/fifo")
    with pytest.raises(ViewError, match="not a regular file"):
        RootView(str(root)).read_text("/etc/fifo")


def test_a_huge_file_is_refused(root: Path) -> None:
    (root / "etc/huge").write_bytes(b"x" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(ViewError, match="larger than 4 MiB"):
        RootView(str(root)).read_text("/etc/huge")


def test_undecodable_bytes_are_replaced(root: Path) -> None:
    (root / "etc/bin").write_bytes(b"a\xffb")
    assert RootView(str(root)).read_text("/etc/bin") == "a\ufffdb"


def test_missing_things_are_none(root: Path) -> None:
    view = RootView(str(root))
    assert (
        view.stat("/nope"),
        view.read_text("/etc/ssh/nope"),
        view.listdir("/nope"),
        view.stat("/etc/ssh/sshd_config/x"),
    ) == (None, None, None, None)


def test_glob_matches_within_one_component_and_skips_hidden(root: Path) -> None:
    (root / "etc/ssh/sshd_config.d").mkdir()
    for name in ("10-a.conf", "20-b.conf", ".hidden.conf", "x.txt"):
        (root / "etc/ssh/sshd_config.d" / name).write_text("")
    assert RootView(str(root)).glob("/etc/ssh/sshd_config.d/*.conf") == [
        "/etc/ssh/sshd_config.d/10-a.conf",
        "/etc/ssh/sshd_config.d/20-b.conf",
    ]


def test_walk_sees_every_entry_once_without_following_links(root: Path) -> None:
    paths = sorted(entry.path for entry in RootView(str(root)).walk())
    assert paths == ["/etc", "/etc/absolute", "/etc/escape", "/etc/loop", "/etc/ssh", "/etc/ssh/sshd_config"]


def test_kind_and_capabilities_follow_the_runtime_and_systemd(root: Path) -> None:
    assert (RootView(str(root)).kind, RootView(str(root)).capabilities) == ("rootfs", frozenset({"kernel"}))
    (root / "usr/lib/systemd").mkdir(parents=True)
    (root / "usr/lib/systemd/systemd").write_text("")
    live = RootView(str(root), StaticRuntime())
    assert (live.kind, live.capabilities) == ("host", frozenset({"kernel", "systemd", "runtime"}))


def test_a_live_container_has_no_kernel_of_its_own(root: Path) -> None:
    assert "kernel" not in RootView(str(root), StaticRuntime(engine="docker")).capabilities
    assert "kernel" in RootView(str(root), StaticRuntime()).capabilities
