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


def test_without_an_include_the_value_goes_first_into_sshd_config(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text("PermitRootLogin yes\nMatch User x\n  MaxAuthTries 9\n")
    params = SshdDropinParams(key="MaxAuthTries", value=3)
    assert plan(params, RootView(str(root))) == [
        "would set 'MaxAuthTries 3' in /etc/ssh/sshd_config (it is read first)"
    ]
    apply(params, str(root))
    lines = (root / "etc/ssh/sshd_config").read_text().splitlines()
    assert lines[1:] == ["MaxAuthTries 3", "PermitRootLogin yes", "Match User x", "  MaxAuthTries 9"]
    assert not (root / DROPIN.lstrip("/")).exists()


def test_a_value_sshd_config_sets_before_its_include_is_changed_there(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    config = "MaxAuthTries 6\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"
    (root / "etc/ssh/sshd_config").write_text(config)
    apply(SshdDropinParams(key="MaxAuthTries", value=4), str(root))
    apply(SshdDropinParams(key="PermitRootLogin", value="no"), str(root))
    assert (root / "etc/ssh/sshd_config").read_text() == config.replace("MaxAuthTries 6", "MaxAuthTries 4")
    assert (root / DROPIN.lstrip("/")).read_text().splitlines()[1:] == ["PermitRootLogin no"]


@pytest.mark.parametrize("key", ["Max Auth", "Max\nTries", "../x", ""])
def test_bad_keys(key: str) -> None:
    with pytest.raises(ValidationError):
        SshdDropinParams(key=key, value=1)


def test_value_cannot_inject_lines(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        apply(SshdDropinParams(key="Banner", value="none\nPermitRootLogin yes"), str(tmp_path))
