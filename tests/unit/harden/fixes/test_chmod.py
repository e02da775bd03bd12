"""chmod fix: removes bits beyond the mode (never adds), sets owner/group by the target's names, stays in the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.errors import RampartError
from rampart.harden.fixes import FIXES
from rampart.harden.fixes.chmod import ChmodParams, apply, plan
from rampart.harden.rootview import RootView
from unit.harden.fixture_root import build_root


def tree(tmp_path: Path, files: dict[str, object], links: dict[str, str] | None = None) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    build_root(root, {"files": files, "links": links or {}})
    return root


def test_plan_then_apply(tmp_path: Path) -> None:
    root = tree(tmp_path, {"etc/shadow": {"content": "x", "mode": 0o644, "uid": 1000, "gid": 0}})
    params = ChmodParams(path="/etc/shadow", mode="0640", owner="root", group="shadow")
    assert plan(params, RootView(str(root))) == [
        "would change /etc/shadow: mode 0644 -> 0640",
        "would change /etc/shadow: owner 1000:0 -> 0:42",
    ]
    assert apply(params, str(root)) == ["/etc/shadow: mode 0644 -> 0640", "/etc/shadow: owner 1000:0 -> 0:42"]
    st = (root / "etc/shadow").stat()
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, 0, 42)
    assert apply(params, str(root)) == []


def test_never_adds_bits(tmp_path: Path) -> None:
    root = tree(tmp_path, {"etc/crontab": {"content": "", "mode": 0o4400}})
    apply(ChmodParams(path="/etc/crontab", mode="0600"), str(root))
    assert (root / "etc/crontab").stat().st_mode & 0o7777 == 0o400


def test_glob(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"var/log/a.log": {"content": "", "mode": 0o666}, "var/log/b.log": {"content": "", "mode": 0o644}},
    )
    done = apply(ChmodParams(path="/var/log/*.log", mode="0640"), str(root))
    assert len(done) == 2 and all((root / f"var/log/{n}.log").stat().st_mode & 0o777 == 0o640 for n in "ab")


def test_link_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("host file")
    outside.chmod(0o666)
    root = tree(tmp_path, {}, {"etc/motd": "../../../../../../../../" + str(outside).lstrip("/")})
    with pytest.raises(RampartError, match="outside the target root"):
        apply(ChmodParams(path="/etc/motd", mode="0644"), str(root))
    assert outside.stat().st_mode & 0o777 == 0o666


def test_absolute_link_resolves_inside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "real"
    outside.write_text("host file")
    outside.chmod(0o666)
    root = tree(
        tmp_path, {str(outside).lstrip("/"): {"content": "", "mode": 0o666}}, {"etc/motd": str(outside)}
    )
    apply(ChmodParams(path="/etc/motd", mode="0644"), str(root))
    assert outside.stat().st_mode & 0o777 == 0o666
    assert (root / str(outside).lstrip("/")).stat().st_mode & 0o777 == 0o644


def test_unknown_owner_refused(tmp_path: Path) -> None:
    root = tree(tmp_path, {"etc/x": {"content": "", "mode": 0o644}})
    with pytest.raises(RampartError, match="no such user"):
        apply(ChmodParams(path="/etc/x", owner="nosuchuser"), str(root))


@pytest.mark.parametrize("path", ["etc/x", "/etc/../../x", "/etc/x\x00"])
def test_bad_paths_rejected(path: str) -> None:
    with pytest.raises(ValidationError):
        ChmodParams(path=path)


def test_in_the_table() -> None:
    assert FIXES["chmod"].params is ChmodParams
    assert set(FIXES) == {
        "chmod",
        "set_config",
        "sshd_dropin",
        "sysctl_dropin",
        "modprobe_disable",
        "write_file",
    }


def test_plan_refuses_images(tmp_path: Path) -> None:
    class Image(RootView):
        @property
        def kind(self) -> str:
            return "image"

    root = tree(tmp_path, {"etc/x": {"content": "", "mode": 0o644}})
    assert "container image" in plan(ChmodParams(path="/etc/x", mode="0600"), Image(str(root)))[0]
    assert os.stat(root / "etc/x").st_mode & 0o777 == 0o644
