"""open_target: host for '/', directory otherwise, one-line TargetError when the path is unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from rampart.errors import TargetError
from rampart.target import DirectoryTarget, HostTarget, open_target
from unit.target.unprivileged import run_unprivileged


def test_root_is_the_host() -> None:
    assert isinstance(open_target("/"), HostTarget)


def test_directory(tmp_path: Path) -> None:
    target = open_target(tmp_path)
    assert isinstance(target, DirectoryTarget) and target.name == str(tmp_path.resolve())


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        open_target(tmp_path / "nope")


def test_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(TargetError, match="not a directory") as info:
        open_target(tmp_path / "f")
    assert "\n" not in info.value.message


def test_unreadable(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0)
    code = (
        "from rampart.errors import TargetError; from rampart.target import open_target\n"
        f"try:\n    open_target({str(tmp_path / 'd')!r})\nexcept TargetError as e:\n    print(e.message)"
    )
    message = run_unprivileged(code).strip()
    assert "cannot be read" in message and "\n" not in message
