"""Differential test: rampart vs debsecan on Debian 11 (bullseye), over >= 500 installed binary packages.

debsecan reads the vulnerability feed the Debian security tracker publishes per suite; here that feed
is built (``debian_feed.py``) from the tracker's own ``{DSA,DLA,DTSA}/list`` files in vulndata and
handed to debsecan with its ``--source`` option as a ``file://`` URL (debsecan fetches it with urllib,
so nothing leaves the machine), together with ``--status`` naming a generated dpkg status file,
``--suite bullseye``, ``--format simple`` (one ``VULNERABILITY BINARY`` line per hit) and no
``--only-fixed``/``--no-obsolete``, so it reports fixed and unfixed vulnerabilities alike; its config,
whitelist and history files point at an empty directory so the host's files play no part.

rampart imports ``vulndata/osv/Debian/all.zip`` (converted from the same lists) and scans the same
status files inside root filesystems that say Debian 11 in ``etc/os-release``.

Per (root, binary package) the two sets of vulnerability names (CVE ids, or the advisory id where an
advisory names no CVE) must be equal. A disagreement is tolerated only when it is listed in
``DOCUMENTED_EXCEPTIONS`` with its reason; a listed exception that no longer occurs fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from debian_feed import build_feed, read_lists
from debian_sample import Installed, layers, write_root
from rampart_cli import import_db, scan_json

pytestmark = [pytest.mark.peer, pytest.mark.timeout(240)]

SUITE = "bullseye"
MIN_PAIRS = 500
MIN_VULNERABLE = 200
MIN_CLEAN = 100

# (root index, binary package, vulnerability) -> why the two may differ there. Empty: none needed.
DOCUMENTED_EXCEPTIONS: dict[tuple[int, str, str], str] = {}

Key = tuple[int, str]  # (root index, binary package)


def debsecan_path() -> str:
    found = shutil.which("debsecan")
    if not found:
        pytest.skip("debsecan is not installed (Debian package: apt-get install debsecan)")
    return found


def run_debsecan(debsecan: str, feed_dir: Path, status: Path, quiet: Path) -> set[tuple[str, str]]:
    done = subprocess.run(
        [
            debsecan,
            "--suite",
            SUITE,
            "--source",
            feed_dir.as_uri() + "/",
            "--status",
            str(status),
            "--format",
            "simple",
            "--config",
            str(quiet / "config"),
            "--whitelist",
            str(quiet / "whitelist"),
            "--history",
            str(quiet / "history"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"debsecan failed ({done.returncode}):\n{done.stderr}"
    assert not done.stderr.strip(), f"debsecan complained:\n{done.stderr}"
    hits = set()
    for line in done.stdout.splitlines():
        name, binary = line.split()
        hits.add((binary, name))
    return hits


def rampart_hits(report: dict) -> tuple[set[str], set[tuple[str, str]]]:
    """(binary packages inventoried, {(binary, vulnerability)}) for the dpkg packages of one scan."""
    debian = [p for p in report["packages"] if str(p.get("ecosystem", "")).startswith("Debian")]
    hits = {
        (f["package"]["name"], f["id"])
        for f in report["findings"]
        if str(f["package"].get("ecosystem", "")).startswith("Debian")
    }
    return {p["name"] for p in debian}, hits


def compare(
    roots: list[list[Installed]],
    peer: list[set[tuple[str, str]]],
    ours: list[tuple[set[str], set[tuple[str, str]]]],
) -> dict[tuple[int, str, str], str]:
    differences: dict[tuple[int, str, str], str] = {}
    for depth, packages in enumerate(roots):
        inventoried, our_hits = ours[depth]
        for pkg in packages:
            if pkg.installed and pkg.binary not in inventoried:
                differences[(depth, pkg.binary, "<inventory>")] = "installed, not inventoried by rampart"
            if not pkg.installed and pkg.binary in inventoried:
                differences[(depth, pkg.binary, "<inventory>")] = "removed, yet inventoried by rampart"
        for binary, name in peer[depth] - our_hits:
            differences[(depth, binary, name)] = "only debsecan"
        for binary, name in our_hits - peer[depth]:
            differences[(depth, binary, name)] = "only rampart"
    return differences


def test_rampart_agrees_with_debsecan(vulndata_dir: Path, tmp_path: Path) -> None:
    debsecan = debsecan_path()
    entries = read_lists(vulndata_dir / "debian-security-tracker")
    feed_dir = tmp_path / "feed"
    feed_dir.mkdir()
    (feed_dir / SUITE).write_bytes(build_feed(entries, SUITE))
    quiet = tmp_path / "debsecan-home"
    quiet.mkdir()

    roots = layers(entries)
    statuses = [write_root(tmp_path / f"root-{i}", packages) for i, packages in enumerate(roots)]
    peer = [run_debsecan(debsecan, feed_dir, status, quiet) for status in statuses]

    cache = tmp_path / "rampart-cache"
    import_db(cache, vulndata_dir / "osv" / "Debian" / "all.zip")
    ours = [rampart_hits(scan_json(cache, tmp_path / f"root-{i}")) for i in range(len(roots))]

    differences = compare(roots, peer, ours)
    unexplained = {k: v for k, v in differences.items() if k not in DOCUMENTED_EXCEPTIONS}
    stale = [k for k in DOCUMENTED_EXCEPTIONS if k not in differences]
    report = "\n".join(f"  root-{d} {b} {n}: {side}" for (d, b, n), side in sorted(unexplained.items()))
    assert not unexplained, f"{len(unexplained)} disagreements:\n{report}"
    assert not stale, f"documented exceptions that no longer occur: {stale}"

    installed = [(d, p.binary) for d, pkgs in enumerate(roots) for p in pkgs if p.installed]
    vulnerable = {(d, b) for d, hits in enumerate(peer) for b, _ in hits}
    assert len(installed) >= MIN_PAIRS, f"only {len(installed)} installed packages compared"
    assert len(vulnerable) >= MIN_VULNERABLE, f"only {len(vulnerable)} vulnerable packages"
    assert len(installed) - len(vulnerable) >= MIN_CLEAN, "too few clean packages in the sample"
    binnmus = sum(1 for pkgs in roots for p in pkgs if p.installed and p.version != p.source_version)
    renamed = sum(1 for pkgs in roots for p in pkgs if p.installed and p.binary != p.source)
    assert binnmus >= 20 and renamed >= 100, (binnmus, renamed)
