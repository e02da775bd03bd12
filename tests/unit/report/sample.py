"""A hand-made ScanResult covering every part of a report, shared by the reporter tests."""

from __future__ import annotations

from datetime import UTC, datetime

from rampart.model import (
    DatabaseInfo,
    FileError,
    Finding,
    IgnoredFinding,
    Inventory,
    MatchEvidence,
    OsRelease,
    Package,
    ScanResult,
    Severity,
    Unmatchable,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

XORG = Package(
    "xserver-xorg-core",
    "2:1.20.11-1+deb11u5",
    "Debian:11",
    "/var/lib/dpkg/status",
    "dpkg",
    "xorg-server",
    "2:1.20.11-1+deb11u5",
)
JINJA = Package(
    "jinja2", "2.10", "PyPI", "/usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA", "python"
)
EVIL = Package("evil\x1b[2J\nname", "1.0\u202e", "npm", "/app/node_modules/evil/package.json", "npm")


def _finding(package: Package, vid: str, severity: Severity, fixed: tuple[str, ...], *ids: str) -> Finding:
    evidence = tuple(
        MatchEvidence(
            i, package.ecosystem, package.source_name or package.name, package.version, "ECOSYSTEM >=0"
        )
        for i in ids
    )
    return Finding(vid, package, ids, severity, fixed, f"summary of {vid}", evidence=evidence)


def sample_result() -> ScanResult:
    findings = (
        _finding(XORG, "CVE-2023-1393", Severity.UNKNOWN, ("2:1.20.11-1+deb11u6",), "DSA-5380-1"),
        _finding(XORG, "CVE-2023-0494", Severity.HIGH, ("2:1.20.11-1+deb11u6",), "DSA-5380-1", "DLA-3310-1"),
        _finding(
            JINJA, "CVE-2019-10906", Severity.CRITICAL, ("2.10.1",), "PYSEC-2019-217", "GHSA-462w-v97r-4m45"
        ),
        _finding(EVIL, "GHSA-evil-\x07", Severity.LOW, ()),
    )
    ignored = (
        IgnoredFinding(_finding(JINJA, "CVE-2020-28493", Severity.MEDIUM, ("2.11.3",)), "not used", None),
    )
    inventory = Inventory(
        target="/srv/rootfs",
        os=OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)"),
        packages=(XORG, JINJA, EVIL),
        errors=(FileError("/var/lib/dpkg/status.d/bad\x1b[31m", "truncated stanza"),),
        files_seen=1234,
    )
    database = DatabaseInfo(
        "/cache/advisories.sqlite3",
        datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        1,
        {"Debian:11": 5000, "PyPI": 7000},
        ("https://osv.example/Debian/all.zip",),
    )
    return ScanResult(
        inventory,
        findings,
        database,
        ignored,
        (Unmatchable(JINJA, "PYSEC-0000-1", "bound 'abc' is not a PEP 440 version"),),
        ("the advisory database has no advisories for npm: its 1 installed packages were not checked",),
    )
