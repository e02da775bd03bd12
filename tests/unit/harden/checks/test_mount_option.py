"""The mount_option check: fstab parsing (escapes, too few fields), mount units, runtime mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view


def run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["mount_option"].run(params, Context(build_view(tmp_path, scenario)))


def test_options_in_fstab(tmp_path: Path) -> None:
    fstab = "UUID=1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n"
    assert (
        run(tmp_path, {"files": {"etc/fstab": fstab}}, mountpoint="/tmp", options=["nodev", "noexec"]).status
        is Status.PASS
    )


def test_last_word_wins_and_defaults_reset(tmp_path: Path) -> None:
    fstab = "tmpfs /tmp tmpfs nodev,dev 0 0\n"
    outcome = run(tmp_path, {"files": {"etc/fstab": fstab}}, mountpoint="/tmp/", options=["nodev"])
    assert outcome.status is Status.FAIL
    assert "/etc/fstab:1: /tmp: nodev,dev (missing nodev)" in outcome.evidence


def test_escaped_mountpoint_and_too_few_fields(tmp_path: Path) -> None:
    fstab = "/dev/sdb1 /srv/my\\040data ext4 nodev 0 2\n/dev/sdc1 /tmp\n\x00\x01\n# comment\n"
    view_scenario = {"files": {"etc/fstab": fstab}}
    outcome = run(tmp_path, view_scenario, mountpoint="/srv/my data", options=["nodev"])
    assert outcome.status is Status.PASS
    assert any("fewer than 4 fields" in line for line in outcome.evidence)
    assert run(tmp_path / "b", view_scenario, mountpoint="/tmp", options=["nodev"]).status is Status.NA


def test_not_separate_is_na_for_options_and_fail_for_separate(tmp_path: Path) -> None:
    assert (
        run(tmp_path, {"files": {"etc/fstab": ""}}, mountpoint="/var", options=["nodev"]).status is Status.NA
    )
    assert (
        run(tmp_path / "b", {"files": {"etc/fstab": ""}}, mountpoint="/var", separate=True).status
        is Status.FAIL
    )


def test_mount_unit_enabled_and_masked(tmp_path: Path) -> None:
    unit = "[Unit]\nDescription=t\n[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=nosuid,nodev\n"
    enabled = {
        "files": {"usr/lib/systemd/system/tmp.mount": unit},
        "links": {"etc/systemd/system/local-fs.target.wants/tmp.mount": "/usr/lib/systemd/system/tmp.mount"},
    }
    assert run(tmp_path, enabled, mountpoint="/tmp", options=["nosuid"]).status is Status.PASS
    assert run(tmp_path / "b", enabled, mountpoint="/tmp", options=["noexec"]).status is Status.FAIL
    masked = {
        "files": {"usr/lib/systemd/system/tmp.mount": unit},
        "links": {"etc/systemd/system/tmp.mount": "/dev/null"},
    }
    assert run(tmp_path / "c", masked, mountpoint="/tmp", separate=True).status is Status.FAIL


def test_runtime_differs_from_fstab(tmp_path: Path) -> None:
    scenario = {
        "kind": "host",
        "files": {"etc/fstab": "tmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n"},
        "runtime": {
            "mounts": [
                {"device": "tmpfs", "mountpoint": "/tmp", "fstype": "tmpfs", "options": ["rw", "nosuid"]}
            ]
        },
    }
    outcome = run(tmp_path, scenario, mountpoint="/tmp", options=["nodev"])
    assert outcome.status is Status.FAIL
    assert "mounted now: /tmp: rw,nosuid (missing nodev)" in outcome.evidence


def test_configured_but_not_mounted_on_live_host(tmp_path: Path) -> None:
    scenario = {
        "kind": "host",
        "files": {"etc/fstab": "/dev/sdb1 /home ext4 nodev 0 2\n"},
        "runtime": {"mounts": []},
    }
    assert run(tmp_path, scenario, mountpoint="/home", options=["nodev"]).status is Status.FAIL
    assert run(tmp_path / "b", scenario, mountpoint="/home", separate=True).status is Status.PASS


def test_huge_fstab(tmp_path: Path) -> None:
    fstab = "garbage line\n" * 50_000 + "tmpfs /tmp tmpfs nodev 0 0\n"
    outcome = run(tmp_path, {"files": {"etc/fstab": fstab}}, mountpoint="/tmp", options=["nodev"])
    assert outcome.status is Status.PASS
