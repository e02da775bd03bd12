"""grub: password and kernel arguments in grub.cfg and /etc/default/grub(.d), runtime cmdline, hostile files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks.grub import CHECK, arg_value
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

CFG = "menuentry 'Debian' {\n\tlinux /boot/vmlinuz root=/dev/sda1 ro apparmor=1 audit_backlog_limit=8192\n}\n"
DEFAULT = 'GRUB_CMDLINE_LINUX="apparmor=1 audit_backlog_limit=8192"\n'


def run(tmp_path: Path, params: dict[str, Any], files: dict[str, Any], **scenario: Any) -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECK.run(params, Context(build_view(tmp_path, {"files": files, **scenario})))


def text(outcome: Outcome) -> str:
    return " ".join((outcome.reason, *outcome.evidence))


APPARMOR = {"assert": "kernel_arg", "arg": "apparmor=1"}


def test_kernel_arg_everywhere(tmp_path: Path) -> None:
    outcome = run(tmp_path, APPARMOR, {"boot/grub/grub.cfg": CFG, "etc/default/grub": DEFAULT})
    assert outcome.status is Status.PASS
    assert "runtime not checked (offline target)" in text(outcome)


def test_one_linux_line_without_the_arg_fails(tmp_path: Path) -> None:
    cfg = CFG + "menuentry 'rescue' {\n\tlinux /boot/vmlinuz root=/dev/sda1 single\n}\n"
    outcome = run(tmp_path, APPARMOR, {"boot/grub/grub.cfg": cfg, "etc/default/grub": DEFAULT})
    assert outcome.status is Status.FAIL and "grub.cfg:5: linux line lacks apparmor == 1" in text(outcome)


def test_persisted_setting_missing_fails(tmp_path: Path) -> None:
    outcome = run(
        tmp_path, APPARMOR, {"boot/grub/grub.cfg": CFG, "etc/default/grub": 'GRUB_CMDLINE_LINUX=""\n'}
    )
    assert outcome.status is Status.FAIL and "GRUB_CMDLINE_LINUX" in text(outcome)


def test_drop_in_appends_and_last_value_wins(tmp_path: Path) -> None:
    files = {
        "boot/grub/grub.cfg": CFG,
        "etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet"\n',
        "etc/default/grub.d/apparmor.cfg": 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=1"\n',
    }
    assert run(tmp_path / "a", APPARMOR, files).status is Status.PASS
    files["etc/default/grub.d/zz.cfg"] = 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} apparmor=0"\n'
    assert run(tmp_path / "b", APPARMOR, files).status is Status.FAIL


def test_numeric_comparison(tmp_path: Path) -> None:
    params = {"assert": "kernel_arg", "arg": "audit_backlog_limit", "op": "ge", "value": 8192}
    assert run(tmp_path / "a", params, {"boot/grub/grub.cfg": CFG}).status is Status.PASS
    low = CFG.replace("8192", "64")
    assert run(tmp_path / "b", params, {"boot/grub/grub.cfg": low}).status is Status.FAIL


def test_runtime_cmdline_on_a_live_system(tmp_path: Path) -> None:
    files = {
        "boot/grub/grub.cfg": CFG,
        "etc/default/grub": DEFAULT,
        "proc/cmdline": "BOOT_IMAGE=/vmlinuz ro quiet\n",
    }
    outcome = run(tmp_path, APPARMOR, files, kind="host")
    assert outcome.status is Status.FAIL and "/proc/cmdline (running kernel) lacks" in text(outcome)


def test_no_grub_is_na(tmp_path: Path) -> None:
    assert run(tmp_path, APPARMOR, {}).status is Status.NA
    assert run(tmp_path / "b", {"assert": "password_set"}, {"etc/default/grub": DEFAULT}).status is Status.NA


def test_password_never_shows_the_hash(tmp_path: Path) -> None:
    cfg = 'set superusers="admin"\npassword_pbkdf2 admin grub.pbkdf2.sha512.10000.SECRETHASH\n' + CFG
    outcome = run(tmp_path, {"assert": "password_set"}, {"boot/grub/grub.cfg": cfg})
    assert outcome.status is Status.PASS and "SECRETHASH" not in text(outcome)
    outcome = run(
        tmp_path / "b", {"assert": "password_set"}, {"boot/grub/grub.cfg": 'set superusers="admin"\n'}
    )
    assert outcome.status is Status.FAIL


def test_garbage_and_truncated_files(tmp_path: Path) -> None:
    files = {
        "boot/grub/grub.cfg": "\x00\x01linux\nlinux\n" + "menuentry {\n\tlinux /vmlinuz apparmor=1",
        "etc/default/grub": 'GRUB_CMDLINE_LINUX="apparmor=1 unterminated\nGRUB_CMDLINE_LINUX_DEFAULT=$(rm -rf /)\n',
    }
    outcome = run(tmp_path, APPARMOR, files)
    assert outcome.status in (Status.PASS, Status.FAIL)


def test_arg_value() -> None:
    assert arg_value("ro quiet apparmor=1 apparmor=0", "apparmor") == "0"
    assert arg_value("ro quiet", "quiet") == ""
    assert arg_value("ro", "audit") is None
