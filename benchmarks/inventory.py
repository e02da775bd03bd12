"""Benchmark: the inventory stage alone — one walk of this machine's `/`, and the dpkg status parser.

Walk: `collect_inventory(open_target("/"))` in-process, median of several runs, with `find / -xdev -type f`
timed beside it as the floor (a C program that only lists names).
dpkg: rampart's own stanza parser against python-debian's deb822 on a generated 5 MB status file
(6,400 stanzas), the size of a large host's `var/lib/dpkg/status`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import benchlib

from rampart.inventory.base import ExtractContext
from rampart.inventory.collect import collect_inventory
from rampart.inventory.dpkg import DpkgExtractor
from rampart.target import DirectoryTarget, open_target
from rampart.target.base import FileInfo

HEADING = "Inventory: walk and dpkg parser"
STANZA = (
    "Package: pkg{0}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 100\n"
    "Maintainer: Someone <someone@example.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: src{0} (1.0-1)\n"
    "Version: 1.0-1+b{0}\nDepends: libc6 (>= 2.14), libfoo (>= 1.2), libbar\n"
    "Description: a package\n" + " with a long description line that goes on and on for a while\n" * 8
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=5)
    return parser.parse_args()


def timed(action: Callable[[], object], runs: int) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def walk_rows(runs: int) -> list[list[object]]:
    find_s, _ = timed(
        lambda: subprocess.run(["find", "/", "-xdev", "-type", "f"], capture_output=True, check=False), runs
    )
    walk_s, inventory = timed(lambda: collect_inventory(open_target("/")), runs)
    counts = Counter(p.ecosystem for p in inventory.packages)  # type: ignore[attr-defined]
    files = inventory.files_seen  # type: ignore[attr-defined]
    return [
        ["`find / -xdev -type f` (floor)", f"{find_s:.2f} s", ""],
        [
            "rampart inventory of `/`",
            f"{walk_s:.2f} s",
            f"{files:,} files; ratio to find {walk_s / find_s:.1f}",
        ],
        ["packages found", sum(counts.values()), ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))],
    ]


def dpkg_rows(runs: int) -> list[list[object]]:
    from debian.deb822 import Packages

    text = "\n".join(STANZA.format(i) for i in range(6400))
    with tempfile.TemporaryDirectory() as folder:
        status = Path(folder) / "var/lib/dpkg/status"
        status.parent.mkdir(parents=True)
        status.write_text(text)
        target, info = DirectoryTarget(folder), FileInfo("var/lib/dpkg/status", len(text), 0o100644)
        ours_s, _ = timed(lambda: DpkgExtractor().extract(info, target, ExtractContext()), runs)
        theirs_s, _ = timed(
            lambda: list(Packages.iter_paragraphs(text.splitlines(True), use_apt_pkg=False)), runs
        )
    return [
        [f"dpkg status, {len(text) / 1e6:.1f} MB: rampart", f"{ours_s * 1000:.0f} ms", ""],
        [
            "dpkg status: python-debian deb822",
            f"{theirs_s * 1000:.0f} ms",
            f"rampart/deb822 {ours_s / theirs_s:.2f}",
        ],
    ]


def main() -> None:
    args = parse_args()
    rows = walk_rows(args.runs) + dpkg_rows(args.runs)
    text = benchlib.table(["what", "median", "note"], rows)
    benchlib.publish(HEADING, text, write=not args.no_write)


if __name__ == "__main__":
    main()
