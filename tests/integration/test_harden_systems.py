"""``rampart harden`` against real systems: a debootstrap'ed Debian 12 minbase root with openssh-server and sudo
installed by apt (judged by the Level 2 profile, then fixed and judged again), and the live host this runs on.

Nothing is mounted into the root: apt and dpkg work without /proc here, and a policy-rc.d keeps the packages'
services from starting in the chroot (it is removed again before rampart looks at the root).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.debootstrap import build_minbase
from rampart.target.host import read_skipped_mounts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
RAMPART = Path(sys.executable).parent / "rampart"
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
L1, L2 = "debian12-l1-server", "debian12-l2-server"
STATUSES = ("pass", "fail", "na", "error", "manual")
# Fixable rules whose automatic fix is known not to bring the rule to pass on a stock Debian 12 root (reported):
# pam.faillock-deny's fix sets deny in faillock.conf, but the rule also needs pam_faillock.so in common-auth,
# which no fix adds; log.var-log-perms' fix chmods /var/log/*.log only, not faillog or /var/log/apt/*.
KNOWN_PARTIAL_FIXES = frozenset({"pam.faillock-deny"})  # it needs pam_faillock in the stack first


def harden(*args: str | Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [str(RAMPART), "harden", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def check_json(target: str | Path, *extra: str | Path) -> dict[str, Any]:
    done = harden("check", target, "-f", "json", *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def by_rule(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["rule"]: result for result in report["results"]}


def errors_of(report: dict[str, Any]) -> list[str]:
    return [f"{r['rule']}: {r['reason']}" for r in report["results"] if r["status"] == "error"]


def assert_counts_equal_rows(report: dict[str, Any]) -> None:
    counted = {status: sum(r["status"] == status for r in report["results"]) for status in STATUSES}
    assert report["summary"] == {**counted, "total": len(report["results"])}


def _chroot(root: Path, *argv: str) -> None:
    done = subprocess.run(
        ["chroot", str(root), *argv], env=APT_ENV, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _install_server_packages(root: Path) -> None:
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    try:
        _chroot(root, "apt-get", "update", "-q")
        _chroot(root, "apt-get", "install", "-y", "-q", "--no-install-recommends", "openssh-server", "sudo")
        _chroot(root, "apt-get", "clean")
    finally:
        policy.unlink()


@pytest.fixture(scope="module")
def bookworm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minbase bookworm root with openssh-server and sudo; built once even when xdist workers share it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    place = shared / "harden-bookworm"
    place.mkdir(exist_ok=True)
    root, done = place / "root", place / "ready"
    with (place / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            build_minbase(root)
            _install_server_packages(root)
            done.touch()
    return root


@pytest.fixture(scope="module")
def bookworm_l2(bookworm: Path) -> dict[str, Any]:
    return check_json(bookworm, "--profile", L2)


def test_debian12_root_is_judged_without_errors(bookworm_l2: dict[str, Any]) -> None:
    report = bookworm_l2
    assert report["target_kind"] == "rootfs" and report["profile"] == L2
    assert_counts_equal_rows(report)
    errors = errors_of(report)
    print("error results:", *errors, sep="\n  ")
    assert errors == []
    results = by_rule(report)
    assert results["perm.etc-shadow"]["status"] == "pass", results["perm.etc-shadow"]
    assert results["perm.etc-passwd"]["status"] == "pass"
    assert results["sudo.installed"]["status"] == "pass"
    assert results["accounts.uid0-only-root"]["status"] == "pass"


def test_debian12_root_ssh_rules_are_judged(bookworm_l2: dict[str, Any]) -> None:
    ssh = {rule: result for rule, result in by_rule(bookworm_l2).items() if rule.startswith("ssh.")}
    assert len(ssh) >= 20
    unjudged = {
        rule: (r["status"], r["reason"]) for rule, r in ssh.items() if r["status"] not in ("pass", "fail")
    }
    assert unjudged == {}
    # sshd as Debian ships it: PAM on (sshd_config says so), root login not refused outright
    assert ssh["ssh.use-pam"]["status"] == "pass"
    assert any("sshd_config:" in line for line in ssh["ssh.use-pam"]["evidence"])
    assert ssh["ssh.no-root-login"]["status"] == "fail"
    assert ssh["ssh.private-host-key-perms"]["status"] == "pass"  # the keys the package generated


def test_debian12_root_rules_needing_a_running_system_are_na(bookworm_l2: dict[str, Any]) -> None:
    done = harden("rules", "--profile", L2, "-f", "json")
    assert done.returncode == 0, done.stderr
    runtime_only = [rule["id"] for rule in json.loads(done.stdout) if "runtime" in rule["requires"]]
    assert runtime_only, "the profile has no rule that needs a running system"
    results = by_rule(bookworm_l2)
    wrong = {
        rule: (results[rule]["status"], results[rule]["reason"])
        for rule in runtime_only
        if results[rule]["status"] != "na" or "running system" not in results[rule]["reason"]
    }
    assert wrong == {}


def test_debian12_root_fix_apply_turns_failing_rules_into_passing(
    bookworm: Path, bookworm_l2: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(bookworm), str(root)], check=True)  # cp -a keeps device nodes as they are
    before = by_rule(bookworm_l2)
    fixable = {rule for rule, r in before.items() if r["status"] == "fail" and r["fixable"]}
    assert "ssh.max-auth-tries" in fixable and "proc.aslr" in fixable

    record = tmp_path / "fixes.jsonl"
    done = harden("fix", root, "--profile", L2, "--apply", "--record", record)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    applied = {entry["rule"] for entry in entries}
    assert applied == fixable, (sorted(fixable - applied), sorted(applied - fixable))
    assert all(entry["changed"] and entry["user"] and entry["time"] for entry in entries)

    report = check_json(root, "--profile", L2)
    assert_counts_equal_rows(report)
    assert errors_of(report) == []
    after = by_rule(report)
    not_fixed = {
        rule: after[rule]["evidence"][:4] for rule in sorted(applied) if after[rule]["status"] != "pass"
    }
    print("applied fixes whose rule still does not pass:", json.dumps(not_fixed, indent=2))
    assert set(not_fixed) <= KNOWN_PARTIAL_FIXES, not_fixed
    assert done.returncode == (1 if not_fixed else 0)  # a fix that did not make its rule pass is not success
    for rule in not_fixed:
        assert f"{rule}: applied, but the rule is still fail" in done.stderr
    worse = {
        rule: (before[rule]["status"], after[rule]["status"])
        for rule in before
        if before[rule]["status"] == "pass" and after[rule]["status"] != "pass"
    }
    assert worse == {}
    assert report["summary"]["pass"] >= bookworm_l2["summary"]["pass"] + len(applied) - len(not_fixed)


# --- the live host -------------------------------------------------------------------------------------------


def _walked_base(candidates: list[Path]) -> Path:
    """The first candidate directory on a filesystem the host walk enters (tmpfs and the like are skipped)."""
    skipped = read_skipped_mounts()
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if not any(
            real == mount or real.startswith(mount.rstrip("/") + "/") for mount in skipped if mount != "/"
        ):
            return Path(real)
    pytest.skip("no writable directory on a filesystem the host walk enters")


@pytest.fixture
def world_writable(tmp_path: Path) -> Iterator[Path]:
    """A world-writable file in a fresh directory, removed afterwards."""
    base = _walked_base([tmp_path, Path("/var/tmp")])
    folder = Path(tempfile.mkdtemp(prefix="rampart-harden-ww-", dir=base))
    path = folder / "open-to-all"
    path.write_text("anyone may write here\n")
    path.chmod(0o666)
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _exclude_all_but(prefix: str) -> list[str]:
    """fnmatch globs matching every path that does not start with ``prefix``."""
    patterns = []
    for index, character in enumerate(prefix):
        head = glob.escape(prefix[:index])
        patterns += [head, f"{head}[!{character}]*"]
    return patterns


def test_live_host_l1_check_completes_without_errors(world_writable: Path, tmp_path: Path) -> None:
    report = check_json("/", "--profile", L1)
    assert report["target"] == "/" and report["target_kind"] == "host" and report["profile"] == L1
    assert_counts_equal_rows(report)
    errors = errors_of(report)
    print("error results:", *errors, sep="\n  ")
    assert errors == []
    walk = by_rule(report)["fs.world-writable"]
    assert walk["status"] == "fail", walk
    # the walk shows at most a few example paths; left alone by a tailoring, everything else is excluded
    tailoring = tmp_path / "only-mine.yml"
    exclude = _exclude_all_but(f"{world_writable.parent}/")
    tailoring.write_text(json.dumps({"extends": L1, "variables": {"fs_walk_exclude": exclude}}))
    mine = by_rule(check_json("/", "--tailoring", tailoring))["fs.world-writable"]
    assert mine["status"] == "fail", mine
    listed = [line for line in mine["evidence"] if "world-writable file" in line]
    assert listed == [f"{world_writable}: world-writable file"], mine["evidence"]
