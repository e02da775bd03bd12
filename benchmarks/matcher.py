"""Benchmark: the matcher alone, and the dpkg version order, on a host-sized load of real data.

Matching: a 2,000-package inventory (Debian 11 binaries, three per source, and PyPI packages; two in three at the
newest fixed version, one in three old) against the real database, through the same SQLite AdvisoryDB a scan uses.
First run (cold reader) and warm runs are reported separately.
Version order: rampart's dpkg sort key against python-debian's Version on the same 400 comparisons.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import benchlib

from rampart.advisories.db import AdvisoryDB
from rampart.match.engine import match_packages
from rampart.model import Package
from rampart.versions.table import scheme_for

HEADING = "Matcher and version order"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=7)
    return parser.parse_args()


def host_packages(db: AdvisoryDB) -> list[Package]:
    """2,000 packages built from names and fixed versions the database really holds."""
    rows = db._conn.execute(  # a benchmark may peek at the file directly
        "SELECT DISTINCT ecosystem, name FROM packages WHERE ecosystem IN ('Debian:11', 'PyPI') ORDER BY 1, 2"
    ).fetchall()
    packages: list[Package] = []
    for index, (ecosystem, name) in enumerate(rows):
        fixes = [
            e.version
            for a in db.advisories_for(ecosystem, name)
            for entry in a.affected
            for r in entry.ranges
            for e in r.events
            if e.kind == "fixed"
        ]
        version = (
            (fixes[-1] if fixes else "1.0") if index % 3 else ("1.0-1" if ecosystem != "PyPI" else "0.1")
        )
        if ecosystem == "PyPI":
            packages.append(Package(name, version, ecosystem, "/site-packages", "python"))
        else:
            packages += [
                Package(f"{name}-bin{i}", version, ecosystem, "/var/lib/dpkg/status", "dpkg", name, version)
                for i in range(3)
            ]
    return packages[:2000]


def timed(action: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def matcher_figures(database: Path, runs: int) -> list[list[object]]:
    with AdvisoryDB.open(database) as probe:
        packages = host_packages(probe)
    rows: list[list[object]] = []
    cold = []
    for _ in range(runs):
        with AdvisoryDB.open(database) as db:
            started = time.perf_counter()
            outcome = match_packages(packages, db)
            cold.append(time.perf_counter() - started)
            warm = timed(lambda db=db: match_packages(packages, db), runs)
    rows.append(["match 2,000 packages, fresh reader", f"{statistics.median(cold) * 1000:.0f} ms", ""])
    rows.append(["match 2,000 packages, warm reader", f"{statistics.median(warm) * 1000:.0f} ms", ""])
    rows.append(["findings", len(outcome.findings), f"{len(outcome.unmatchable)} unmatchable"])
    return rows


def version_figures(runs: int) -> list[list[object]]:
    from debian.debian_support import Version

    dpkg = scheme_for("Debian")
    texts = [f"2:1.{i % 40}.{i}-1+deb11u{i % 7}" for i in range(400)]
    pairs = list(zip(texts, reversed(texts), strict=True))
    ours = [(dpkg.parse(a), dpkg.parse(b)) for a, b in pairs]
    theirs = [(Version(a), Version(b)) for a, b in pairs]
    ours_t = statistics.median(timed(lambda: [x < y for x, y in ours], runs))
    theirs_t = statistics.median(timed(lambda: [x < y for x, y in theirs], runs))
    return [
        ["400 dpkg comparisons, rampart key", f"{ours_t * 1e6:.0f} µs", ""],
        ["400 dpkg comparisons, python-debian", f"{theirs_t * 1e6:.0f} µs", f"ratio {ours_t / theirs_t:.2f}"],
    ]


def main() -> None:
    args = parse_args()
    cache = args.scratch / "matcher-cache"
    benchlib.import_database(cache, benchlib.osv_zips(args.vulndata))
    rows = matcher_figures(cache / "advisories.sqlite3", args.runs) + version_figures(args.runs)
    text = benchlib.table(["what", "median", "note"], rows)
    benchlib.publish(HEADING, text, write=not args.no_write)


if __name__ == "__main__":
    main()
