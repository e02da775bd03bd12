"""Proof that package awareness explains what apt does to a real Debian 12 root, and nothing else.

A debootstrap'ed minbase root is baselined (every path but the virtual filesystems' mount points; ``/var/log``
as growing logs), then apt installs a small package (nano, with its libraries, alternatives and a conffile)
and reinstalls one already there (sed) inside the root: every change must be explained by the package
databases or the generated-file rules. Then a packaged file is overwritten by hand: that one change must be
PACKAGE_MODIFIED naming coreutils. Nothing is mounted into the root: apt and dpkg work without /proc here.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from fixtures.debootstrap import build_minbase
from rampart.fim.compare import compare
from rampart.fim.model import Attr, Cause, Change, ChangeKind, Entry, HashName
from rampart.fim.packages import PackageIndex, explain_all
from rampart.fim.policy import BUILTIN_GROUPS, Policy, Rule
from rampart.fim.walk import walk

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
VIRTUAL = ("proc", "sys", "dev", "run", "tmp", "var/tmp")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}


@pytest.fixture(scope="module")
def bookworm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_minbase(tmp_path_factory.mktemp("fim-debootstrap") / "root")


def _policy(root: Path) -> Policy:
    base = os.fsencode(root)
    rules = (
        Rule(base, BUILTIN_GROUPS["full"], "full"),
        Rule(base + b"/var/log", BUILTIN_GROUPS["log"], "log"),
    )
    excludes = tuple(f"{root}/{name}" for name in VIRTUAL)
    return Policy(rules, excludes, (), HashName.SHA256)


def _chroot(root: Path, *argv: str) -> None:
    done = subprocess.run(
        ["chroot", str(root), *argv], env=APT_ENV, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _changes(baseline: list[Entry], root: Path, policy: Policy) -> list[Change]:
    index = PackageIndex.load(root)
    now = list(walk(policy, workers=2))
    return list(explain_all(list(compare(baseline, now, policy)), index, root))


def _summary(changes: list[Change]) -> Counter[str]:
    return Counter(str(change.cause) for change in changes)


def _shown(changes: list[Change]) -> str:
    return "\n".join(
        f"{c.kind} {c.path!r} {[str(a.attr) for a in c.attrs]} {c.package}" for c in changes[:40]
    )


def test_apt_install_and_reinstall_are_explained_and_a_hand_edit_is_not(
    bookworm: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    # cp -a makes device nodes anew; shutil.copytree would read /dev/full and /dev/console forever
    subprocess.run(["cp", "-a", str(bookworm), str(root)], check=True)
    policy = _policy(root)
    baseline = list(walk(policy, workers=2))
    assert len(baseline) > 5000

    _chroot(root, "apt-get", "update", "-q")
    _chroot(root, "apt-get", "install", "-y", "-q", "nano")
    _chroot(root, "apt-get", "install", "-y", "-q", "--reinstall", "sed")
    changes = _changes(baseline, root, policy)
    print("after apt:", dict(_summary(changes)))
    print(
        "\n".join(
            f"  {n:4} {cause}: {note}"
            for (cause, note), n in Counter((c.cause, c.note) for c in changes).items()
        )
    )
    unexplained = [c for c in changes if c.cause is Cause.UNEXPLAINED]
    assert unexplained == [], _shown(unexplained)
    paths = {c.path: c for c in changes}
    nano = paths[os.fsencode(root / "usr/bin/nano")]
    assert (nano.kind, nano.cause, nano.package) == (ChangeKind.ADDED, Cause.PACKAGE, "nano")
    sed = paths[os.fsencode(root / "usr/bin/sed")]  # unpacked again: a new inode, the package's content
    assert (sed.kind, sed.cause, sed.package) == (ChangeKind.CHANGED, Cause.PACKAGE, "sed")
    assert Attr.INODE in {a.attr for a in sed.attrs}
    assert paths[os.fsencode(root / "etc/ld.so.cache")].cause is Cause.GENERATED

    installed = list(walk(policy, workers=2))
    (root / "usr/bin/env").write_bytes(b"#!/bin/sh\nexec /bin/sh -i\n")
    edited = _changes(installed, root, policy)
    print("after the hand edit:", dict(_summary(edited)))
    assert [(c.path, c.cause, c.package) for c in edited] == [
        (os.fsencode(root / "usr/bin/env"), Cause.PACKAGE_MODIFIED, "coreutils")
    ]
