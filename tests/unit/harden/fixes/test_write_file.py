"""write_file fix: exact content, new files get the mode, existing files keep owner and mode, links stay inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.errors import RampartError
from rampart.harden.fixes.write_file import WriteFileParams, apply, plan
from rampart.harden.rootview import RootView


def test_create_with_mode(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    params = WriteFileParams(path="/etc/cron.allow", content="root\n", mode="0640")
    assert plan(params, RootView(str(root))) == ["would create (mode 0640) /etc/cron.allow with 1 lines"]
    assert apply(params, str(root)) == ["created /etc/cron.allow"]
    assert (root / "etc/cron.allow").stat().st_mode & 0o7777 == 0o640
    assert apply(params, str(root)) == []


def test_replace_keeps_owner_and_mode(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/issue").write_text("Debian GNU/Linux 12 \\n \\l\n")
    os.chown(root / "etc/issue", 0, 7)
    os.chmod(root / "etc/issue", 0o604)
    apply(WriteFileParams(path="/etc/issue", content="Authorized use only.\n"), str(root))
    st = (root / "etc/issue").stat()
    assert (root / "etc/issue").read_text() == "Authorized use only.\n"
    assert (st.st_mode & 0o7777, st.st_gid) == (0o604, 7)


def test_link_escaping_the_root_refused(tmp_path: Path) -> None:
    outside = tmp_path / "hostissue"
    outside.write_text("host\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/issue").symlink_to("../../../../../../../.." + str(outside))
    with pytest.raises(RampartError):
        apply(WriteFileParams(path="/etc/issue", content="x\n"), str(root))
    assert outside.read_text() == "host\n"


def test_existing_directory_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/issue").mkdir(parents=True)
    with pytest.raises(RampartError, match="not a regular file"):
        apply(WriteFileParams(path="/etc/issue", content="x\n"), str(root))


@pytest.mark.parametrize(
    "raw",
    [
        {"path": "/x", "content": "a" * ((1 << 20) + 1)},
        {"path": "/x", "content": "", "mode": "999"},
        {"path": "x", "content": ""},
    ],
)
def test_bad_parameters(raw: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        WriteFileParams.model_validate(raw)
