"""The systemd_unit check: enablement from links (wants, requires, aliases, masks), runtime activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

UNIT = {"usr/lib/systemd/system/cups.service": "[Install]\nWantedBy=multi-user.target\n"}
WANTS = {"etc/systemd/system/multi-user.target.wants/cups.service": "/usr/lib/systemd/system/cups.service"}


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    params.setdefault("units", ["cups.service"])
    return CHECKS["systemd_unit"].run(params, Context(build_view(tmp_path, scenario)))


def test_enabled_by_wants_link(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"files": UNIT, "links": WANTS}, enabled=True)
    assert outcome.status is Status.PASS
    assert outcome.evidence[0].startswith(
        "cups.service: enabled (/etc/systemd/system/multi-user.target.wants/"
    )


def test_disabled_masked_static(tmp_path: Path) -> None:
    assert run(tmp_path, {"files": UNIT}, enabled=False).status is Status.PASS
    masked = {"files": UNIT, "links": {**WANTS, "etc/systemd/system/cups.service": "/dev/null"}}
    assert run(tmp_path / "b", masked, enabled=False).status is Status.PASS
    static = {
        "files": UNIT,
        "links": {"usr/lib/systemd/system/multi-user.target.wants/cups.service": "../cups.service"},
    }
    assert run(tmp_path / "c", static, enabled=False).status is Status.FAIL


def test_alias_enablement(tmp_path: Path) -> None:
    files = {"usr/lib/systemd/system/ssh.service": "[Install]\nAlias=sshd.service\n"}
    links = {
        "etc/systemd/system/sshd.service": "/usr/lib/systemd/system/ssh.service",
        "etc/systemd/system/multi-user.target.wants/ssh.service": "/usr/lib/systemd/system/ssh.service",
    }
    assert (
        run(tmp_path, {"files": files, "links": links}, units=["sshd.service"], enabled=True).status
        is Status.PASS
    )


def test_requires_link_counts(tmp_path: Path) -> None:
    links = {
        "etc/systemd/system/sockets.target.requires/cups.service": "/usr/lib/systemd/system/cups.service"
    }
    assert run(tmp_path, {"files": UNIT, "links": links}, enabled=True).status is Status.PASS


def test_missing_follows_the_parameter(tmp_path: Path) -> None:
    assert run(tmp_path, {}, enabled=True).status is Status.NA
    assert run(tmp_path / "b", {}, enabled=True, missing="fail").status is Status.FAIL
    assert run(tmp_path / "c", {}, enabled=False, missing="pass").status is Status.PASS


def test_active_only_on_live_targets(tmp_path: Path) -> None:
    offline = run(tmp_path, {"files": UNIT, "links": WANTS}, enabled=True, active=True)
    assert offline.status is Status.PASS
    assert "active state not checked (offline target)" in offline.evidence
    host = {
        "kind": "host",
        "files": UNIT,
        "links": WANTS,
        "runtime": {"units": {"cups.service": {"active": "failed", "enabled": "enabled"}}},
    }
    assert run(tmp_path / "b", host, enabled=True, active=True).status is Status.FAIL


def test_running_without_unit_file_is_judged(tmp_path: Path) -> None:
    host = {
        "kind": "host",
        "runtime": {"units": {"cups.service": {"active": "active", "enabled": "generated"}}},
    }
    assert run(tmp_path, host, active=False, missing="pass").status is Status.FAIL


def test_hostile_link_targets(tmp_path: Path) -> None:
    links = {
        "etc/systemd/system/cups.service": "../../../../../../etc/passwd",
        "etc/systemd/system/multi-user.target.wants/loop.service": "loop.service",
    }
    outcome = run(
        tmp_path, {"links": links}, units=["cups.service", "loop.service"], enabled=False, missing="pass"
    )
    assert outcome.status in (Status.PASS, Status.FAIL)
