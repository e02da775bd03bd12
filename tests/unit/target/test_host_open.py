"""HostTarget.open: the one-call path for plain files, the resolving path for links, refusals kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampart.target import HostTarget


def _rel(path: Path) -> str:
    return str(path).lstrip("/")


def test_plain_file_opens(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    with HostTarget(skip=frozenset()).open(_rel(tmp_path / "f")) as handle:
        assert handle.read() == b"data"


def test_link_in_last_component_is_resolved(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with HostTarget(skip=frozenset()).open(_rel(tmp_path / "link")) as handle:
        assert handle.read() == b"real"


def test_link_into_a_skipped_mount_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/key").write_bytes(b"k")
    (tmp_path / "link").symlink_to(tmp_path / "secret/key")
    target = HostTarget(skip=frozenset({_rel(tmp_path / "secret")}))
    with pytest.raises(OSError):
        target.open(_rel(tmp_path / "link"))
    with pytest.raises(OSError):
        target.open(_rel(tmp_path / "secret/key"))


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="not a regular file"):
        HostTarget(skip=frozenset()).open(_rel(tmp_path / "pipe"))
