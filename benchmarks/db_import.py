"""Benchmark: how fast the advisory database is built from the shared OSV data.

Three ways in, each into a fresh cache directory per run, median of several runs:
``rampart db import`` of the three zips, ``rampart db update --source DIR`` from the directory mirror
(``<ecosystem>/all.zip``), and the same update served over loopback HTTP, as a user's update would fetch it.
No peer here builds an OSV database, so the figures are absolute: records per second and database size.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import benchlib
from benchlib import Measurement

HEADING = "Advisory database import rate"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=3)
    parser.add_argument("--no-http", action="store_true", help="skip the loopback HTTP update")
    return parser.parse_args()


def measure(label: str, argv_for: Callable[[Path], list[str]], scratch: Path, runs: int) -> list[Measurement]:
    """`runs` builds, each into a fresh cache directory."""
    results = []
    for index in range(runs):
        cache = scratch / "import-cache"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        log = scratch / "import.log"
        print(f"  {label}: run {index + 1}/{runs}", flush=True)
        measurement = benchlib.run_measured(argv_for(cache), log)
        benchlib.check(measurement, label, log)
        results.append(measurement)
    return results


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """folder over HTTP on a free loopback port, for the length of the block."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the benchmark's output."""


def row(label: str, runs: list[Measurement], records: int, db_mb: float) -> list[object]:
    median = benchlib.medians(runs)
    rate = records / median.wall_s
    wall, rss = f"{median.wall_s:.2f} s", f"{median.maxrss_mb:.0f} MB"
    return [label, f"{records:,}", wall, benchlib.spread(runs), f"{rate:,.0f}", rss, f"{db_mb:.1f} MB"]


def run_all(args: argparse.Namespace, zips: list[Path], records: int) -> list[list[object]]:
    """Measure each way in; one table row each."""
    scratch = args.scratch / "db-import"
    mirror = args.vulndata / "osv"
    ways: list[tuple[str, Callable[[Path], list[str]]]] = [
        ("db import (3 zips)", lambda c: benchlib.rampart(c, "db", "import", *map(str, zips))),
        ("db update --source DIR", lambda c: benchlib.rampart(c, "db", "update", "--source", str(mirror))),
    ]
    rows = [_one(label, argv_for, scratch, args.runs, records) for label, argv_for in ways]
    if not args.no_http:
        with serve(mirror) as url:
            update = functools.partial(_update_argv, url=url)
            rows.append(_one("db update --source http://127.0.0.1", update, scratch, args.runs, records))
    return rows


def _update_argv(cache: Path, url: str) -> list[str]:
    return benchlib.rampart(cache, "db", "update", "--source", url)


def _one(
    label: str, argv_for: Callable[[Path], list[str]], scratch: Path, runs: int, records: int
) -> list[object]:
    results = measure(label, argv_for, scratch, runs)
    return row(label, results, records, benchlib.directory_size_mb(scratch / "import-cache"))


def main() -> None:
    args = parse_args()
    zips = benchlib.osv_zips(args.vulndata)
    records = benchlib.count_records(zips)
    rows = run_all(args, zips, records)
    headers = ["how", "records", "median wall", "range", "records/s", "median peak RSS", "database size"]
    text = benchlib.table(headers, rows)
    print(text)
    if not args.no_write:
        zips_line = ", ".join(f"`{z.parent.name}/all.zip`" for z in zips)
        body = (
            f"{benchlib.info_lines(benchlib.machine_info(), benchlib.command_line())}\n- input: {zips_line}"
        )
        benchlib.write_section(
            HEADING, f"{body}\n\n{text}\n\nrecords/s = OSV records in the zips / median wall."
        )


if __name__ == "__main__":
    main()
