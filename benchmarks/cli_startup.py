"""Benchmark: how fast the command line answers (`rampart --help`, `rampart --version`).

Heavy libraries are imported inside the commands that need them, so the root command should answer in
well under half a second; median of several fresh child processes.
"""

from __future__ import annotations

import argparse

import benchlib

HEADING = "Command-line start-up"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=9)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rows = []
    for argv in (["--help"], ["--version"], ["scan", "--help"], ["db", "--help"]):
        runs = [benchlib.run_measured([str(benchlib.rampart_bin()), *argv]) for _ in range(args.runs)]
        for run in runs:
            benchlib.check(run, "rampart " + " ".join(argv))
        median = benchlib.medians(runs)
        rows.append([f"`rampart {' '.join(argv)}`", f"{median.wall_s * 1000:.0f} ms", benchlib.spread(runs)])
    text = benchlib.table(["command", "median wall", "range"], rows)
    benchlib.publish(HEADING, text, write=not args.no_write)


if __name__ == "__main__":
    main()
