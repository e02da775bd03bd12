"""sysctl_dropin fix: persisted in /etc/sysctl.d/99-rampart.conf; sysctl -w only on the live host."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.harden.fixes import sysctl_dropin
from rampart.harden.fixes.sysctl_dropin import DROPIN, SysctlDropinParams, apply, plan
from rampart.harden.rootview import RootView
from rampart.harden.runtime import StaticRuntime


def test_writes_and_replaces(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    apply(SysctlDropinParams(name="kernel.randomize_va_space", value=2), str(root))
    apply(SysctlDropinParams(name="fs.suid_dumpable", value=0), str(root))
    apply(SysctlDropinParams(name="kernel.randomize_va_space", value=1), str(root))
    lines = (root / DROPIN.lstrip("/")).read_text().splitlines()
    assert lines[1:] == ["kernel.randomize_va_space = 1", "fs.suid_dumpable = 0"]


def test_not_run_for_a_directory_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(sysctl_dropin, "run_sysctl", lambda name, value: calls.append((name, value)) or "ran")
    root = tmp_path / "root"
    root.mkdir()
    assert apply(SysctlDropinParams(name="net.ipv4.ip_forward", value=0), str(root)) == [
        f"set net.ipv4.ip_forward = 0 in {DROPIN}"
    ]
    assert calls == []


def test_plan_mentions_the_live_change(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    live = plan(SysctlDropinParams(name="net.ipv4.ip_forward", value=0), RootView(str(root), StaticRuntime()))
    assert live[-1] == "would run: sysctl -w net.ipv4.ip_forward=0"


@pytest.mark.parametrize(
    ("name", "value"),
    [("kernel.x; rm -rf /", 1), ("-w", 1), ("net.x", "1\nkernel.y = 2"), ("net.x", "$(id)")],
)
def test_bad_parameters(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        SysctlDropinParams.model_validate({"name": name, "value": value})
