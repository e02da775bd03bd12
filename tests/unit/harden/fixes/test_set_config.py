"""set_config fix: replace the active line(s) or append, sections, atomic write keeping owner and mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.errors import RampartError
from rampart.harden.fixes.set_config import SetConfigParams, apply, plan, set_line
from rampart.harden.rootview import RootView


def root_with(tmp_path: Path, rel: str, text: str, mode: int = 0o644, gid: int = 0) -> Path:
    root = tmp_path / "root"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_text(text)
    os.chown(root / rel, 0, gid)
    os.chmod(root / rel, mode)
    return root


def test_replaces_active_line_and_comments_out_repeats() -> None:
    text = "# PASS_MAX_DAYS 1\nPASS_MAX_DAYS 99999\nOTHER 1\nPASS_MAX_DAYS 5\n"
    assert set_line(text, "PASS_MAX_DAYS", "PASS_MAX_DAYS 365", "whitespace") == (
        "# PASS_MAX_DAYS 1\nPASS_MAX_DAYS 365\nOTHER 1\n# PASS_MAX_DAYS 5  # replaced by rampart\n"
    )


def test_appends_when_absent() -> None:
    assert set_line("A=1", "INACTIVE", "INACTIVE=45", "=") == "A=1\nINACTIVE=45\n"


def test_sections() -> None:
    text = "[Journal]\n#Storage=auto\n[Other]\nStorage=volatile\n"
    assert set_line(text, "Storage", "Storage=persistent", "=", "Journal") == (
        "[Journal]\n#Storage=auto\nStorage=persistent\n[Other]\nStorage=volatile\n"
    )
    assert set_line("", "Storage", "Storage=persistent", "=", "Journal") == "[Journal]\nStorage=persistent\n"
    assert (
        set_line("[Journal]\n", "Storage", "Storage=persistent", "=", "Journal")
        == "[Journal]\nStorage=persistent\n"
    )


def test_apply_keeps_owner_and_mode(tmp_path: Path) -> None:
    root = root_with(tmp_path, "etc/login.defs", "PASS_MAX_DAYS 99999\n", 0o600, 42)
    params = SetConfigParams(path="/etc/login.defs", key="PASS_MAX_DAYS", value=365, separator="whitespace")
    assert plan(params, RootView(str(root))) == ["would set 'PASS_MAX_DAYS 365' in /etc/login.defs"]
    assert apply(params, str(root)) == ["set 'PASS_MAX_DAYS 365' in /etc/login.defs"]
    st = (root / "etc/login.defs").stat()
    assert (root / "etc/login.defs").read_text() == "PASS_MAX_DAYS 365\n"
    assert (st.st_mode & 0o7777, st.st_gid) == (0o600, 42)
    assert apply(params, str(root)) == [] and plan(params, RootView(str(root))) == []
    assert [p.name for p in (root / "etc").iterdir()] == ["login.defs"]


def test_creates_missing_file_and_directories(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    params = SetConfigParams(
        path="/etc/systemd/journald.conf.d/60-rampart.conf",
        key="Storage",
        value="persistent",
        section="Journal",
    )
    apply(params, str(root))
    assert (
        root / "etc/systemd/journald.conf.d/60-rampart.conf"
    ).read_text() == "[Journal]\nStorage=persistent\n"


def test_refuses_links_out_of_the_root_and_fifos(tmp_path: Path) -> None:
    outside = tmp_path / "host-login.defs"
    outside.write_text("PASS_MAX_DAYS 1\n")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/login.defs").symlink_to("../../../../../../.." + str(outside))
    params = SetConfigParams(path="/etc/login.defs", key="PASS_MAX_DAYS", value=365, separator="whitespace")
    with pytest.raises(RampartError, match="outside"):
        apply(params, str(root))
    assert outside.read_text() == "PASS_MAX_DAYS 1\n"
    (root / "etc/login.defs").unlink()
    os.mkfifo(root / "etc/login.defs")
    with pytest.raises(RampartError, match="not a regular file"):
        apply(params, str(root))


def test_directory_component_link_outside_refused(tmp_path: Path) -> None:
    outside = tmp_path / "hostetc"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "etc").symlink_to("../../../../../../../.." + str(outside))
    with pytest.raises(RampartError, match="outside"):
        apply(SetConfigParams(path="/etc/x.conf", key="A", value=1), str(root))
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value"), [("key", "A B"), ("key", "A\nB"), ("path", "relative"), ("key", "")]
)
def test_bad_parameters(field: str, value: str) -> None:
    raw = {"path": "/etc/x", "key": "A", "value": "1", field: value}
    with pytest.raises(ValidationError):
        SetConfigParams.model_validate(raw)


def test_value_with_newline_refused(tmp_path: Path) -> None:
    root = root_with(tmp_path, "etc/x", "")
    with pytest.raises(ValueError, match="span lines"):
        apply(SetConfigParams(path="/etc/x", key="A", value="1\nEVIL=1"), str(root))
