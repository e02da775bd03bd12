"""sshd_dropin fix: one rampart drop-in, first in name order, mode 0600 when created."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rampart.harden.fixes.sshd_dropin import DROPIN, SshdDropinParams, apply, plan
from rampart.harden.rootview import RootView


def test_creates_then_updates(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text("Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n")
    first = SshdDropinParams(key="MaxAuthTries", value=4)
    assert plan(first, RootView(str(root))) == [f"would set 'MaxAuthTries 4' in {DROPIN}"]
    apply(first, str(root))
    apply(SshdDropinParams(key="PermitRootLogin", value="no"), str(root))
    apply(SshdDropinParams(key="MaxAuthTries", value=3), str(root))
    path = root / DROPIN.lstrip("/")
    assert path.read_text().splitlines()[1:] == ["MaxAuthTries 3", "PermitRootLogin no"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_plan_notes_a_missing_include(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text("PermitRootLogin yes\n")
    assert "does not include" in plan(SshdDropinParams(key="X", value=1), RootView(str(root)))[1]


@pytest.mark.parametrize("key", ["Max Auth", "Max\nTries", "../x", ""])
def test_bad_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        SshdDropinParams(key=key, value=1)


def test_value_cannot_inject_lines(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        apply(SshdDropinParams(key="Banner", value="none\nPermitRootLogin yes"), str(tmp_path))
