"""Benchmark: ``rampart fim`` beside AIDE on a copy of /usr, the same attributes, warm cache.

The tree is a copy of this machine's /usr (``cp -a``, kept in the scratch dir; reruns reuse it). Both tools
watch the same attributes: SHA-256, permissions, owner, group and mtime (AIDE ``p+u+g+m+sha256``; rampart a
policy group ``[type, mode, owner, group, mtime, hash]`` with ``hash: sha256``). The page cache is warmed
by reading the tree once before the runs, and the tools alternate. Measured: ``aide --init`` against
``rampart fim init``; ``aide --check`` against ``rampart fim check --full`` (every file hashed again); and
rampart's quick ``fim check`` (files whose size, mtime, ctime, inode and device are unchanged keep their
digest). AIDE comes from Debian's ``aide`` package (benchmark only).

Targets from the issue: init at most a quarter of AIDE's, a full check at most a sixth of AIDE's, a quick
check under 2 s, peak memory no higher than AIDE's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import benchlib
from benchlib import Measurement

HEADING = "File integrity: rampart fim beside AIDE on a copy of /usr"
POLICY = """\
version: 1
hash: sha256
groups:
  bench: [type, mode, owner, group, mtime, hash]
rules:
  - {{path: {tree}, group: bench}}
"""
AIDE_CONFIG = """\
database_in=file:{db}
database_out=file:{db_new}
database_new=file:{db_new}
gzip_dbout=no
report_url=stdout
BENCH = p+u+g+m+sha256
{tree} BENCH
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=3)
    parser.add_argument("--source", type=Path, default=Path("/usr"), help="tree to copy (default /usr)")
    parser.add_argument("--no-aide", action="store_true", help="skip AIDE")
    return parser.parse_args()


def ensure_tree(source: Path, scratch: Path) -> Path:
    tree = scratch / "fim" / "usr"
    if not tree.exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        partial = tree.with_name("usr.partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(partial)], check=True)
        partial.rename(tree)
    return tree


def tree_facts(tree: Path) -> tuple[int, int]:
    """Regular files and their total bytes (also reads every inode: part of warming the cache)."""
    files = total = 0
    for directory, _, names in os.walk(tree):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files += 1
                total += os.lstat(path).st_size
    return files, total


def warm(tree: Path) -> None:
    subprocess.run(
        ["find", str(tree), "-type", "f", "-exec", "cat", "{}", "+"], stdout=subprocess.DEVNULL, check=False
    )


class Rampart:
    def __init__(self, work: Path, tree: Path) -> None:
        self.work = work
        self.policy = work / "policy.yaml"
        self.policy.write_text(POLICY.format(tree=tree))
        self.baseline, self.key = work / "baseline.rfim", work / "signing.key"

    def _fim(self, *args: str) -> list[str]:
        return [str(benchlib.rampart_bin()), "fim", *args]

    def init(self) -> Measurement:
        self.baseline.unlink(missing_ok=True)
        argv = self._fim("init", "--config", str(self.policy), "--baseline", str(self.baseline))
        return benchlib.run_measured([*argv, "--signing-key", str(self.key)], self.work / "init.out")

    def check(self, full: bool) -> Measurement:
        argv = self._fim("check", "--baseline", str(self.baseline), "--verify-key", str(self.key) + ".pub")
        argv += ["--no-packages", "-f", "json", *(["--full"] if full else [])]
        return benchlib.run_measured(argv, self.work / "check.out")


class Aide:
    def __init__(self, work: Path, tree: Path) -> None:
        self.work = work
        self.db, self.db_new = work / "aide.db", work / "aide.db.new"
        self.config = work / "aide.conf"
        self.config.write_text(AIDE_CONFIG.format(db=self.db, db_new=self.db_new, tree=tree))

    def init(self) -> Measurement:
        self.db_new.unlink(missing_ok=True)
        measured = benchlib.run_measured(["aide", "--init", "-c", str(self.config)], self.work / "init.out")
        self.db_new.replace(self.db)
        return measured

    def check(self) -> Measurement:
        return benchlib.run_measured(["aide", "--check", "-c", str(self.config)], self.work / "check.out")


def measure(args: argparse.Namespace, tree: Path) -> dict[str, list[Measurement]]:
    work = args.scratch / "fim" / "runs"
    shutil.rmtree(work, ignore_errors=True)
    (work / "rampart").mkdir(parents=True)
    (work / "aide").mkdir()
    ours, theirs = Rampart(work / "rampart", tree), None if args.no_aide else Aide(work / "aide", tree)
    found: dict[str, list[Measurement]] = {}
    for _ in range(args.runs):
        _add(found, "rampart fim init", ours.init(), {0})
        _add(found, "rampart fim check --full", ours.check(full=True), {0})
        _add(found, "rampart fim check (quick)", ours.check(full=False), {0})
        if theirs is not None:
            _add(found, "aide --init", theirs.init(), {0})
            _add(found, "aide --check", theirs.check(), {0})
    return found


def _add(found: dict[str, list[Measurement]], name: str, measured: Measurement, ok: set[int]) -> None:
    if measured.returncode not in ok:
        sys.exit(f"benchmark: {name} failed with exit code {measured.returncode}")
    found.setdefault(name, []).append(measured)


def report(found: dict[str, list[Measurement]], files: int, total: int) -> str:
    rows = [
        [
            name,
            f"{benchlib.medians(runs).wall_s:.2f} s",
            benchlib.spread(runs),
            f"{benchlib.medians(runs).maxrss_mb:.0f} MB",
        ]
        for name, runs in found.items()
    ]
    text = benchlib.table(["run", "median wall", "range", "median peak RSS"], rows)
    notes = [f"- tree: a copy of /usr, {files:,} regular files, {total / 2**30:.2f} GiB; warm cache"]
    notes += _verdicts(found)
    return text + "\n\n" + "\n".join(notes)


def _verdicts(found: dict[str, list[Measurement]]) -> list[str]:
    wall = {name: benchlib.medians(runs).wall_s for name, runs in found.items()}
    rss = {name: benchlib.medians(runs).maxrss_mb for name, runs in found.items()}
    quick = wall["rampart fim check (quick)"]
    lines = [f"- quick check {quick:.2f} s (target < 2 s): {'met' if quick < 2 else 'NOT met'}"]
    if "aide --init" in wall:
        lines += [
            _ratio("init", wall["rampart fim init"], wall["aide --init"], 4),
            _ratio("full check", wall["rampart fim check --full"], wall["aide --check"], 6),
        ]
        ours = max(rss[n] for n in rss if n.startswith("rampart"))
        peer = max(rss["aide --init"], rss["aide --check"])
        lines.append(f"- peak RSS rampart {ours:.0f} MB, AIDE {peer:.0f} MB (target: no higher): "
                     f"{'met' if ours <= peer else 'NOT met'}")  # fmt: skip
    return lines


def _ratio(what: str, ours: float, peer: float, times: int) -> str:
    share = ours / peer
    verdict = "met" if share <= 1 / times else "NOT met"
    return f"- {what}: rampart {ours:.2f} s is {share:.2f} of AIDE's {peer:.2f} s (target ≤ 1/{times}): {verdict}"


def main() -> None:
    args = parse_args()
    if not args.no_aide and shutil.which("aide") is None:
        sys.exit("benchmark: aide is not installed (apt-get install aide), or pass --no-aide")
    tree = ensure_tree(args.source, args.scratch)
    files, total = tree_facts(tree)
    warm(tree)
    found = measure(args, tree)
    benchlib.publish(HEADING, report(found, files, total), not args.no_write)


if __name__ == "__main__":
    main()
