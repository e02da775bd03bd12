"""Building a target from a case's description: a hand-made root filesystem (and, for ``host``, a recorded runtime).

A scenario is a mapping::

    kind: rootfs            # rootfs (default), host (rootfs + the recorded runtime below) or image
    base: debian12          # debian12 (default: os-release, root/daemon/nobody in passwd, group, shadow), al2023
                            # (the same files with an Amazon Linux 2023 os-release) or none
    files: {etc/ssh/sshd_config: "MaxAuthTries 4\n", etc/shadow: {content: "...", mode: 0o640, uid: 0, gid: 42}}
    dirs: {etc/cron.d: {mode: 0o700}}
    links: {etc/mtab: /proc/self/mounts}
    remove: [etc/shadow]    # paths of the base to leave out
    packages: [openssh-server, sudo]   # recorded as installed in the dpkg status file
    rpm_packages: [cronie, chrony]     # recorded as installed in a real rpm database (var/lib/rpm/rpmdb.sqlite)
    runtime: {sysctl: {...}, modules: [...], mounts: [...], units: {...}, listening: [...], commands: {...}}
    variables: {sshd_max_auth_tries: 3}
    image: {config: {...}}  # kind image only: the image config (see fixture_image.py)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rampart.harden.rootview import RootView
from rampart.harden.runtime import StaticRuntime
from rampart.harden.view import SystemView
from unit.inventory.rpm_helpers import header_blob, package_entries, write_rpmdb

DEBIAN12_BASE: dict[str, Any] = {
    "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    "etc/passwd": {
        "content": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        "mode": 0o644,
    },
    "etc/group": {"content": "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nnogroup:x:65534:\n", "mode": 0o644},
    "etc/shadow": {
        "content": "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nnobody:*:19700:0:99999:7:::\n",
        "mode": 0o640,
        "gid": 42,
    },
    "etc/gshadow": {"content": "root:*::\ndaemon:*::\nshadow:*::\nnogroup:*::\n", "mode": 0o640, "gid": 42},
    "usr/lib/systemd/systemd": {"content": "", "mode": 0o755},
}

AL2023_OS_RELEASE = (
    'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
    'PRETTY_NAME="Amazon Linux 2023"\nCPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"\n'
)
BASES: dict[str, dict[str, Any]] = {
    "debian12": DEBIAN12_BASE,
    "al2023": {**DEBIAN12_BASE, "etc/os-release": AL2023_OS_RELEASE},
    "none": {},
}


def _entry(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"content": value}


def _write(root: Path, rel: str, spec: dict[str, Any]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    content = spec.get("content", "")
    path.write_bytes(content.encode() if isinstance(content, str) else bytes(content))
    _own(path, spec, 0o644)


def _own(path: Path, spec: dict[str, Any], default_mode: int) -> None:
    os.chown(path, int(spec.get("uid", 0)), int(spec.get("gid", 0)), follow_symlinks=False)
    os.chmod(path, int(spec.get("mode", default_mode)))


def _dpkg_status(names: list[str]) -> str:
    stanzas = []
    for item in names:
        name, _, version = str(item).partition("=")
        stanzas.append(
            f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
            f"Version: {version or '1.0-1'}\nDescription: {name}\n"
        )
    return "\n".join(stanzas)


def _rpmdb(root: Path, names: list[str]) -> None:
    blobs: list[object] = []
    for item in names:
        name, _, version = str(item).partition("=")
        blobs.append(header_blob(package_entries(name, version or "1.0", "1.amzn2023")))
    write_rpmdb(root / "var/lib/rpm/rpmdb.sqlite", blobs)


def build_root(root: Path, scenario: dict[str, Any]) -> None:
    """Write the scenario's tree under ``root``."""
    files: dict[str, Any] = dict(BASES[scenario.get("base", "debian12")])
    for rel in scenario.get("remove", ()):
        files.pop(rel, None)
    files.update(scenario.get("files") or {})
    if "packages" in scenario:
        files["var/lib/dpkg/status"] = _dpkg_status(list(scenario["packages"]))
    if "rpm_packages" in scenario:
        _rpmdb(root, list(scenario["rpm_packages"]))
    for rel, spec in (scenario.get("dirs") or {}).items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        _own(root / rel, spec or {}, 0o755)
    for rel, value in files.items():
        _write(root, rel, _entry(value))
    for rel, target in (scenario.get("links") or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / rel)


def build_view(tmp_path: Path, scenario: dict[str, Any]) -> SystemView:
    """The target a scenario describes, built under ``tmp_path``."""
    kind = scenario.get("kind", "rootfs")
    if kind == "image":
        from unit.harden.fixture_image import build_image_view

        return build_image_view(tmp_path, scenario)
    root = tmp_path / "root"
    root.mkdir()
    build_root(root, scenario)
    runtime = StaticRuntime.from_mapping(scenario.get("runtime") or {}) if kind == "host" else None
    return RootView(str(root), runtime=runtime, name=str(root))
