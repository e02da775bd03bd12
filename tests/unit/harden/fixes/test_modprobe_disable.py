"""modprobe_disable fix: install /bin/false and blacklist, one file per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.harden.fixes.modprobe_disable import ModprobeDisableParams, apply, plan
from rampart.harden.rootview import RootView


def test_writes_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    params = ModprobeDisableParams(module="cramfs")
    assert plan(params, RootView(str(root))) == [
        "would write /etc/modprobe.d/rampart-cramfs.conf (install cramfs /bin/false; blacklist cramfs)"
    ]
    assert apply(params, str(root)) == ["wrote /etc/modprobe.d/rampart-cramfs.conf"]
    text = (root / "etc/modprobe.d/rampart-cramfs.conf").read_text()
    assert "install cramfs /bin/false\nblacklist cramfs\n" in text
    assert apply(params, str(root)) == [] and plan(params, RootView(str(root))) == []


@pytest.mark.parametrize("module", ["../../etc/passwd", "a b", "x\ninstall y /bin/sh", ""])
def test_bad_module_names(module: str) -> None:
    with pytest.raises(ValidationError):
        ModprobeDisableParams(module=module)
