"""Benchmark: how ``rampart scan`` time grows with the number of advisories in the database.

The real shared OSV data is replicated 10x and 100x under new ids (``X`` becomes ``X-R1`` … ``X-R99``),
in two variants:

- ``renamed``: the copies also get new package names (``name-r1`` …), so the database and its name
  index grow while the lookups of a scan still hit only the original advisories (findings stay equal);
- ``same-names``: the copies keep the package names, so every match multiplies (the worst case).

Each database is built with ``rampart db import`` (timed once) and a fixed miniature root filesystem is
scanned against it several times. The miniature is made at run time, outside the repository:
``etc/os-release`` of Debian 11, a dpkg status with this host's installed packages (real Debian binary
packages with their ``Source:`` fields and versions) plus every Debian 11 source package the shared data
fixes, at one of its real Debian 11 versions, and ~300 Python ``.dist-info`` folders of PyPI packages the
data names, each at a real released version listed in its advisory.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import benchlib
from benchlib import Measurement
from debian.debian_support import Version
from packaging.version import InvalidVersion
from packaging.version import Version as Pep440

HEADING = "Scan time against database size"
VARIANTS = ("renamed", "same-names")
PYTHON_PACKAGES = 300
SEED = 20260101
HOST_STATUS = Path("/var/lib/dpkg/status")
KEPT_FIELDS = ("Package", "Status", "Priority", "Architecture", "Source", "Version", "Maintainer")
OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
    'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n'
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=5)
    parser.add_argument("--factors", default="1,10,100", help="replication factors (default 1,10,100)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="renamed, same-names or both")
    parser.add_argument(
        "--keep", action="store_true", help="keep the miniature, replicated zips and databases"
    )
    return parser.parse_args()


# --- replicated advisory data --------------------------------------------------------------------


def replica(record: dict, copy: int, rename: bool) -> dict:
    """Copy `copy` (>= 1) of an OSV record: a new id, and new package names when `rename`."""
    clone = json.loads(json.dumps(record))
    clone["id"] = f"{record['id']}-R{copy}"
    if rename:
        for affected in clone.get("affected", []):
            package = affected.get("package", {})
            package["name"] = f"{package.get('name', '')}-r{copy}"
            package.pop("purl", None)
    return clone


def iter_members(path: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".json"):
                yield info.filename, archive.read(info)


def replicate_zip(source: Path, target: Path, factor: int, rename: bool) -> None:
    """source's records and factor-1 copies of each, into one zip at target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in iter_members(source):
            out.writestr(name, data)
            record = json.loads(data)
            for copy in range(1, factor):
                clone = replica(record, copy, rename)
                out.writestr(f"{clone['id']}.json", json.dumps(clone))
    partial.replace(target)


def replicated_zips(zips: list[Path], scratch: Path, factor: int, variant: str) -> list[Path]:
    """The zips for one (factor, variant); the originals at 1x; made once and reused."""
    if factor == 1:
        return zips
    folder = scratch / "scaling" / f"{variant}-x{factor}"
    targets = [folder / z.parent.name / "all.zip" for z in zips]
    for source, target in zip(zips, targets, strict=True):
        if not target.exists():
            print(f"  writing {target} …", flush=True)
            replicate_zip(source, target, factor, rename=variant == "renamed")
    return targets


# --- the miniature root filesystem ---------------------------------------------------------------


def host_stanzas() -> dict[str, dict[str, str]]:
    """This host's installed dpkg packages, the fields an extractor needs."""
    stanzas = {}
    text = HOST_STATUS.read_text(errors="replace") if HOST_STATUS.exists() else ""
    for block in text.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", block, re.M))
        if "Package" in fields and "installed" in fields.get("Status", ""):
            stanzas[fields["Package"]] = {k: fields[k] for k in KEPT_FIELDS if k in fields}
    return stanzas


def debian11_versions(debian_zip: Path) -> dict[str, list[str]]:
    """Every Debian 11 source package the data fixes, with its real fixed versions."""
    versions: dict[str, set[str]] = {}
    for _, data in iter_members(debian_zip):
        for affected in json.loads(data).get("affected", []):
            if affected.get("package", {}).get("ecosystem") != "Debian:11":
                continue
            fixed = {
                e["fixed"] for r in affected.get("ranges", []) for e in r.get("events", []) if "fixed" in e
            }
            versions.setdefault(affected["package"]["name"], set()).update(fixed)
    return {name: sorted(found, key=Version) for name, found in versions.items() if found}


def debian11_stanza(name: str, versions: list[str]) -> dict[str, str]:
    """A binary package named as its source, at the middle one of its real Debian 11 versions."""
    return {
        "Package": name,
        "Status": "install ok installed",
        "Priority": "optional",
        "Architecture": "amd64",
        "Version": versions[len(versions) // 2],
        "Maintainer": "Debian <debian@example.invalid>",
    }


def status_text(debian_zip: Path) -> str:
    stanzas = host_stanzas()
    for name, versions in debian11_versions(debian_zip).items():
        stanzas[name] = debian11_stanza(name, versions)
    blocks = ["\n".join(f"{k}: {v}" for k, v in stanza.items()) for _, stanza in sorted(stanzas.items())]
    return "\n\n".join(blocks) + "\n"


def python_picks(pypi_zip: Path) -> list[tuple[str, str]]:
    """PYTHON_PACKAGES PyPI packages the data names, each at a real version listed in an advisory."""
    listed: dict[str, str] = {}
    for _, data in iter_members(pypi_zip):
        for affected in json.loads(data).get("affected", []):
            name = affected.get("package", {}).get("name", "")
            good = [v for v in affected.get("versions", []) if _pep440(v)]
            if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) and good and name not in listed:
                listed[name] = good[len(good) // 2]
    names = sorted(listed)
    picked = random.Random(SEED).sample(names, min(PYTHON_PACKAGES, len(names)))
    return [(name, listed[name]) for name in sorted(picked)]


def _pep440(text: str) -> bool:
    try:
        Pep440(text)
    except InvalidVersion:
        return False
    return True


def build_miniature(root: Path, vulndata: Path) -> tuple[int, int]:
    """Write the miniature tree; returns (dpkg packages, Python packages)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(OS_RELEASE)
    status = root / "var" / "lib" / "dpkg" / "status"
    status.parent.mkdir(parents=True)
    status.write_text(status_text(vulndata / "osv" / "Debian" / "all.zip"))
    site = root / "usr" / "lib" / "python3" / "dist-packages"
    picks = python_picks(vulndata / "osv" / "PyPI" / "all.zip")
    for name, version in picks:
        info = site / f"{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return status.read_text().count("Package: "), len(picks)


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Database:
    """One built database and the scans measured against it."""

    variant: str
    factor: int
    cache: Path
    records: int
    built: Measurement
    size_mb: float
    scans: list[Measurement] = field(default_factory=list)
    report: dict = field(default_factory=dict)


def build(args: argparse.Namespace, factor: int, variant: str) -> Database:
    """Replicate (once, cached), import (timed once) and size one database."""
    zips = replicated_zips(benchlib.osv_zips(args.vulndata), args.scratch, factor, variant)
    cache = args.scratch / "scaling" / f"db-{variant}-x{factor}"
    print(f"  {variant} x{factor}: importing …", flush=True)
    built = benchlib.import_database(cache, zips)
    return Database(
        variant, factor, cache, benchlib.count_records(zips), built, benchlib.directory_size_mb(cache)
    )


def databases(args: argparse.Namespace) -> list[Database]:
    """The 1x database once (both variants are the real data there), then each (variant, factor > 1)."""
    factors = sorted(int(f) for f in args.factors.split(","))
    variants = [v for v in args.variants.split(",") if v]
    built = [build(args, 1, "real")] if 1 in factors else []
    return built + [build(args, factor, variant) for variant in variants for factor in factors if factor > 1]


def scan_round_robin(dbs: list[Database], root: Path, out: Path, runs: int) -> None:
    """One warm-up round, then `runs` rounds scanning against every database in turn (noise hits all alike)."""
    for index in range(runs + 1):
        print(f"  scan round {index + 1}/{runs + 1}{' (warm-up)' if not index else ''}", flush=True)
        for db in dbs:
            measurement = benchlib.run_measured(
                benchlib.rampart(db.cache, "scan", str(root), "--format", "json"), out
            )
            benchlib.check(measurement, f"rampart scan ({db.variant} x{db.factor})", out)
            if index:
                db.scans.append(measurement)
            if index == runs:
                db.report = json.loads(out.read_text())


def row(db: Database, base_s: float | None) -> list[object]:
    median = benchlib.medians(db.scans)
    findings = db.report.get("findings", [])
    matched = sum(len(f.get("advisories", [])) for f in findings)
    ratio = f"{median.wall_s / base_s:.2f}" if base_s else ""
    database = [
        db.variant,
        f"{db.factor}x",
        f"{db.records:,}",
        f"{db.size_mb:.0f} MB",
        f"{db.built.wall_s:.1f} s",
    ]
    scan = [f"{median.wall_s:.2f} s", benchlib.spread(db.scans), f"{median.maxrss_mb:.0f} MB", ratio]
    return [*database, *scan, len(db.report.get("packages", [])), len(findings), matched]


def main() -> None:
    args = parse_args()
    root = args.scratch / "scaling" / "rootfs"
    dpkg, python = build_miniature(root, args.vulndata)
    print(f"miniature rootfs {root}: {dpkg} dpkg packages, {python} Python packages", flush=True)
    dbs = databases(args)
    scan_round_robin(dbs, root, args.scratch / "scaling" / "scan.json", args.runs)
    if not args.keep:
        shutil.rmtree(args.scratch / "scaling", ignore_errors=True)
    base = next((benchlib.medians(db.scans).wall_s for db in dbs if db.factor == 1), None)
    headers = ["variant", "factor", "records", "database", "import", "median scan", "range", "peak RSS"]
    headers += ["scan vs 1x", "packages", "findings", "advisories matched"]
    text = benchlib.table(headers, [row(db, base) for db in dbs])
    print(text)
    if not args.no_write:
        facts = benchlib.info_lines(benchlib.machine_info(), benchlib.command_line())
        tree = f"- miniature rootfs: {dpkg} dpkg packages, {python} Python dist-infos; {MINIATURE_NOTE}"
        benchlib.write_section(HEADING, f"{facts}\n{tree}\n\n{text}\n\n{VARIANT_NOTE}")


MINIATURE_NOTE = (
    "os-release says Debian 11; the dpkg status holds this host's installed packages (real Debian binary "
    "packages with their Source: fields and versions; no Debian 11 package list is reachable offline) and "
    "every Debian 11 source package the shared data fixes, at the middle one of its real fixed versions; "
    "the dist-infos are PyPI packages the data names, each at a real version listed in its advisory"
)
VARIANT_NOTE = (
    "`real`: the shared data as it is. `renamed`: copies carry new ids and new package names, so only the "
    "original advisories can match (findings stay constant while the database grows). `same-names`: copies "
    "keep the package names, so every match is multiplied by the factor; findings are grouped per "
    "vulnerability (its CVE), so the copies mostly show up in `advisories matched` (advisory ids summed over "
    "findings) rather than as new findings; a copy of an advisory that names no CVE is a finding of its own. "
    "`import` is one timed `rampart db import` of the replicated zips. "
    "Scans run round-robin over all databases, one warm-up round first."
)


if __name__ == "__main__":
    main()
