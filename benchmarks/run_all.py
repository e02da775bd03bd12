"""Run every benchmark in turn (``make bench``); each writes its own section of docs/benchmarks.md.

The common options (``--runs``, ``--scratch``, ``--vulndata``, ``--no-write``) are passed on to each one;
without ``--runs`` each benchmark uses its own default.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "cli_startup.py",
    "db_import.py",
    "inventory.py",
    "matcher.py",
    "scan_host.py",
    "image_scan.py",
    "scan_scaling.py",
    "fleet_scale.py",
    "sessions.py",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int)
    parser.add_argument("--scratch")
    parser.add_argument("--vulndata")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--only", help="comma-separated benchmark names, e.g. scan_host")
    return parser.parse_args()


def forwarded(args: argparse.Namespace) -> list[str]:
    """The common options given to run_all, as arguments for each benchmark."""
    argv = [
        f"--{k}={v}"
        for k, v in (("runs", args.runs), ("scratch", args.scratch), ("vulndata", args.vulndata))
        if v
    ]
    return [*argv, "--no-write"] if args.no_write else argv


def chosen(args: argparse.Namespace) -> list[str]:
    names = [f"{n.removesuffix('.py')}.py" for n in (args.only or "").split(",") if n]
    return names or list(BENCHMARKS)


def main() -> None:
    args = parse_args()
    argv = forwarded(args)
    failed = []
    for name in chosen(args):
        print(f"== {name}", flush=True)
        done = subprocess.run([sys.executable, str(HERE / name), *argv], check=False)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
