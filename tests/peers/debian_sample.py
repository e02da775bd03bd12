"""Installed Debian 11 packages for the debsecan differential test, built from real tracker entries.

For every source package with a bullseye entry, up to four real versions: the one just before its
first security fix (``+deb11uN`` -> ``+deb11u(N-1)`` or the release version), the first fix, a fix in
between and the newest fix. Version k of every source goes into root filesystem k (one dpkg database
holds one version of a package). Each source is installed as up to three of its real binary packages
(``data/debian-binaries.txt``): those named otherwise carry ``Source: NAME``; some arch-specific ones
are binNMUs (``VERSION+b1`` with ``Source: NAME (VERSION)``); a few are removed with their
configuration files left (``deinstall ok config-files``), which no scanner may report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from debian.debian_support import Version
from debian_feed import Entry

BINARIES = Path(__file__).with_name("data") / "debian-binaries.txt"
OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
    'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n'
)
UPDATE = re.compile(r"^(?P<base>.*)(?P<sep>[+~])deb11u(?P<n>\d+)$")


@dataclass(frozen=True)
class Installed:
    binary: str
    version: str
    arch: str
    source: str
    source_version: str
    installed: bool

    def stanza(self) -> str:
        lines = [f"Package: {self.binary}"]
        lines.append("Status: " + ("install ok installed" if self.installed else "deinstall ok config-files"))
        lines += [
            "Priority: optional",
            "Section: misc",
            "Installed-Size: 42",
            "Maintainer: Debian Security Team <team@security.debian.org>",
            f"Architecture: {self.arch}",
        ]
        if self.source_version != self.version:
            lines.append(f"Source: {self.source} ({self.source_version})")
        elif self.source != self.binary:
            lines.append(f"Source: {self.source}")
        lines += [f"Version: {self.version}", f"Description: {self.binary} from {self.source}", " stanza"]
        return "\n".join(lines) + "\n"


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def read_binaries() -> dict[str, list[tuple[str, str]]]:
    table: dict[str, list[tuple[str, str]]] = {}
    for line in BINARIES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            source, _, rest = line.partition(": ")
            table[source] = [tuple(item.split("/", 1)) for item in rest.split()]  # type: ignore[misc]
    return table


def previous_update(version: str) -> str | None:
    """The version a stable update replaced, when its suffix says so (``+deb11u3`` -> ``+deb11u2``)."""
    found = UPDATE.match(version)
    if not found:
        return None
    n = int(found["n"])
    if n > 1:
        return f"{found['base']}{found['sep']}deb11u{n - 1}"
    return found["base"] if found["sep"] == "+" else None


def source_versions(entries: list[Entry], release: str = "bullseye") -> dict[str, list[str]]:
    fixes: dict[str, set[str]] = {}
    for entry in entries:
        if entry.release == release and entry.fixed:
            fixes.setdefault(entry.source, set()).add(entry.fixed)
    chosen: dict[str, list[str]] = {}
    for source, found in sorted(fixes.items()):
        ordered = sorted(found, key=Version)
        wishes = [previous_update(ordered[0]), ordered[0], ordered[len(ordered) // 2], ordered[-1]]
        chosen[source] = list(dict.fromkeys(v for v in wishes if v))
    return chosen


def layers(entries: list[Entry]) -> list[list[Installed]]:
    binaries = read_binaries()
    out: list[list[Installed]] = []
    for source, versions in source_versions(entries).items():
        for depth, version in enumerate(versions):
            while len(out) <= depth:
                out.append([])
            for binary, arch in binaries.get(source, [(source, "amd64")]):
                out[depth].append(_installed(binary, arch, source, version))
    return out


def _installed(binary: str, arch: str, source: str, version: str) -> Installed:
    roll = _stable(f"{binary} {version}")
    binnmu = arch != "all" and roll % 4 == 0
    return Installed(binary, f"{version}+b1" if binnmu else version, arch, source, version, roll % 23 != 5)


def write_root(root: Path, packages: list[Installed]) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE, encoding="utf-8")
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("\n".join(p.stanza() for p in packages), encoding="utf-8")
    return status
