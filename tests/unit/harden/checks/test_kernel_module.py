"""The kernel_module check: shipped modules, modprobe.d directives with odd whitespace, loaded modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks import CHECKS
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_root import build_view

TREE = "lib/modules/6.1.0-18-amd64"
DEP = {
    f"{TREE}/modules.dep": "kernel/drivers/usb/storage/usb-storage.ko.xz: kernel/drivers/usb/core/usbcore.ko\n"
}


def run(tmp_path: Path, scenario: dict[str, Any], name: str = "usb-storage") -> Outcome:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return CHECKS["kernel_module"].run({"name": name}, Context(build_view(tmp_path, scenario)))


def test_absent_module_passes(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"files": DEP}, "cramfs")
    assert outcome.status is Status.PASS
    assert "cramfs is not in any /lib/modules tree" in outcome.evidence


def test_walk_without_modules_dep(tmp_path: Path) -> None:
    files = {f"{TREE}/kernel/drivers/usb/storage/usb-storage.ko.zst": ""}
    assert run(tmp_path, {"files": files}).status is Status.FAIL


def test_dash_and_underscore_and_odd_whitespace(tmp_path: Path) -> None:
    conf = "  install\tusb_storage    /bin/true   # off\n\n\t blacklist  usb-storage\t\nweird\nblacklist\ninstall x\n"
    outcome = run(tmp_path, {"files": {**DEP, "etc/modprobe.d/usb.conf": conf}})
    assert outcome.status is Status.PASS, outcome


def test_first_install_wins_and_continuations(tmp_path: Path) -> None:
    files = {
        **DEP,
        "etc/modprobe.d/10-a.conf": "install usb-storage \\\n  /sbin/modprobe --ignore-install usb-storage\n",
        "etc/modprobe.d/20-b.conf": "install usb-storage /bin/false\nblacklist usb-storage\n",
    }
    outcome = run(tmp_path, {"files": files})
    assert outcome.status is Status.FAIL
    assert any("not a no-op command" in line for line in outcome.evidence)


def test_etc_file_hides_lib_file(tmp_path: Path) -> None:
    files = {
        **DEP,
        "lib/modprobe.d/usb.conf": "install usb-storage /bin/false\nblacklist usb-storage\n",
        "etc/modprobe.d/usb.conf": "# emptied by the admin\n",
    }
    assert run(tmp_path, {"files": files}).status is Status.FAIL


def test_blacklist_alone_is_not_enough(tmp_path: Path) -> None:
    outcome = run(tmp_path, {"files": {**DEP, "etc/modprobe.d/usb.conf": "blacklist usb-storage\n"}})
    assert outcome.status is Status.FAIL


def test_loaded_now_fails_on_a_live_host(tmp_path: Path) -> None:
    files = {**DEP, "etc/modprobe.d/usb.conf": "install usb-storage /bin/false\nblacklist usb-storage\n"}
    outcome = run(tmp_path, {"kind": "host", "files": files, "runtime": {"modules": ["usb_storage"]}})
    assert outcome.status is Status.FAIL
    assert "usb-storage is loaded now (/proc/modules)" in outcome.evidence


def test_builtin_module_fails(tmp_path: Path) -> None:
    files = {f"{TREE}/modules.dep": "", f"{TREE}/modules.builtin": "kernel/fs/squashfs/squashfs.ko\n"}
    assert run(tmp_path, {"files": files}, "squashfs").status is Status.FAIL


def test_garbage_and_binary_modprobe_files(tmp_path: Path) -> None:
    files = {
        **DEP,
        "etc/modprobe.d/junk.conf": "\x00\xff\xfe" * 1000
        + "\ninstall usb-storage /bin/false\nblacklist usb-storage",
        f"{TREE}/modules.dep": "::::\n\x00\nkernel/drivers/usb/storage/usb-storage.ko.xz:\n",
    }
    assert run(tmp_path, {"files": files}).status is Status.PASS
