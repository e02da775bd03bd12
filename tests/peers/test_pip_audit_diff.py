"""Differential test: rampart vs pip-audit on the same PyPI advisory data, over >= 500 real pairs.

pip-audit (its OSV service) is pointed at a loopback OSV query server (``osv_server.py``) that answers
from ``vulndata/osv/PyPI/all.zip`` with the OSV schema's own matching rules, through pip-audit's own
``--osv-url`` option. It audits pinned requirements files with ``--no-deps --disable-pip``, so nothing
is resolved or installed. rampart scans a miniature root filesystem holding one ``.dist-info`` per
pair, with a database imported from the same zip.

Per (normalised name, version) the two sets of vulnerabilities must be equal. Advisory ids are compared
through their alias groups (a PYSEC record, its GHSA and its CVE are one vulnerability), built from
the records' ``id`` and ``aliases``. A disagreement is tolerated only when it is listed in
``DOCUMENTED_EXCEPTIONS`` with the reason (a peer's bug, proven from the record's text); a listed
exception that no longer occurs fails the test too, so the list cannot go stale.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from osv_server import OsvIndex, serve
from packaging.utils import canonicalize_name
from pypi_sample import sample
from rampart_cli import finding_ids, import_db, scan_json

pytestmark = [pytest.mark.peer, pytest.mark.timeout(240)]

MIN_PAIRS = 500
MIN_VULNERABLE = 200
MIN_CLEAN = 50

Pair = tuple[str, str]  # (canonical name, version)

# (canonical name, version, record id) -> why the peers may differ there. Empty: no exception needed.
DOCUMENTED_EXCEPTIONS: dict[tuple[str, str, str], str] = {}


def pip_audit_command() -> list[str]:
    script = Path(sys.executable).with_name("pip-audit")
    if script.exists():
        return [str(script)]
    found = shutil.which("pip-audit")
    if found:
        return [found]
    pytest.skip("pip-audit is not installed (it is in the `dev` extra: pip install -e '.[dev]')")


class AliasGroups:
    """Union-find over record ids and their aliases: one group is one vulnerability."""

    def __init__(self, index: OsvIndex) -> None:
        self.parent: dict[str, str] = {}
        for record in index.records.values():
            for alias in record.get("aliases", []):
                self._union(record["id"], alias)

    def _find(self, name: str) -> str:
        self.parent.setdefault(name, name)
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def _union(self, a: str, b: str) -> None:
        self.parent[self._find(a)] = self._find(b)

    def keys(self, ids: Iterable[str]) -> set[str]:
        return {self._find(i) for i in ids}


def layers(pairs: list[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
    """Split pairs so that no layer holds a name twice (one site-packages, one requirements file)."""
    out: list[list[tuple[str, str, str]]] = []
    seen: dict[str, int] = defaultdict(int)
    for item in pairs:
        depth = seen[item[0]]
        seen[item[0]] += 1
        if depth == len(out):
            out.append([])
        out[depth].append(item)
    return out


def build_rootfs(root: Path, grouped: list[list[tuple[str, str, str]]]) -> None:
    for depth, group in enumerate(grouped):
        if depth == 0:
            site = root / "usr/lib/python3/dist-packages"
        else:
            site = root / f"venvs/{depth}/lib/python3.11/site-packages"
        for canonical, display, version in group:
            info = site / f"{canonical.replace('-', '_')}-{version}.dist-info"
            info.mkdir(parents=True)
            (info / "METADATA").write_text(
                f"Metadata-Version: 2.1\nName: {display}\nVersion: {version}\n\n", encoding="utf-8"
            )


def run_pip_audit(url: str, work: Path, grouped: list[list[tuple[str, str, str]]]) -> dict[Pair, set[str]]:
    command = pip_audit_command()

    def one(depth: int) -> dict[Pair, set[str]]:
        requirements = work / f"requirements-{depth}.txt"
        requirements.write_text("".join(f"{d}=={v}\n" for _, d, v in grouped[depth]), encoding="utf-8")
        done = subprocess.run(
            [
                *command,
                "-r",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "--vulnerability-service",
                "osv",
                "--osv-url",
                f"{url}/v1/query",
                "--format",
                "json",
                "--progress-spinner",
                "off",
                "--cache-dir",
                str(work / f"pip-audit-cache-{depth}"),
                "--timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode in (0, 1), f"pip-audit failed ({done.returncode}):\n{done.stderr[-3000:]}"
        result: dict[Pair, set[str]] = {}
        for dep in json.loads(done.stdout)["dependencies"]:
            assert "skip_reason" not in dep, f"pip-audit skipped {dep}"
            result[(canonicalize_name(dep["name"]), dep["version"])] = {v["id"] for v in dep["vulns"]}
        return result

    merged: dict[Pair, set[str]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(one, range(len(grouped))):
            merged.update(part)
    return merged


def rampart_results(report: dict) -> dict[Pair, set[str]]:
    result: dict[Pair, set[str]] = {}
    for pkg in report["packages"]:
        if pkg.get("ecosystem") == "PyPI":
            result.setdefault((canonicalize_name(pkg["name"]), pkg["version"]), set())
    for finding in report["findings"]:
        pkg = finding["package"]
        if pkg.get("ecosystem") == "PyPI":
            key = (canonicalize_name(pkg["name"]), pkg["version"])
            result.setdefault(key, set()).update(finding_ids(finding))
    return result


def compare(
    pairs: list[Pair], peer: dict[Pair, set[str]], ours: dict[Pair, set[str]], groups: AliasGroups
) -> dict[tuple[str, str, str], str]:
    """Every (name, version, group) on which the two sides differ, with which side had it."""
    differences: dict[tuple[str, str, str], str] = {}
    for pair in pairs:
        assert pair in peer, f"pip-audit did not report on {pair}"
        if pair not in ours:
            differences[(*pair, "<inventory>")] = "package not inventoried by rampart"
            continue
        theirs_keys, ours_keys = groups.keys(peer[pair]), groups.keys(ours[pair])
        for key in theirs_keys - ours_keys:
            differences[(*pair, _named(key, peer[pair], groups))] = "only pip-audit"
        for key in ours_keys - theirs_keys:
            differences[(*pair, _named(key, ours[pair], groups))] = "only rampart"
    return differences


def _named(key: str, ids: set[str], groups: AliasGroups) -> str:
    return sorted(i for i in ids if groups.keys([i]) == {key})[0]


def _documented(name: str, version: str, record: str, groups: AliasGroups) -> str | None:
    for (e_name, e_version, e_record), reason in DOCUMENTED_EXCEPTIONS.items():
        if (e_name, e_version) == (name, version) and groups.keys([e_record]) == groups.keys([record]):
            return reason
    return None


def test_rampart_agrees_with_pip_audit(vulndata_dir: Path, tmp_path: Path) -> None:
    pypi_zip = vulndata_dir / "osv" / "PyPI" / "all.zip"
    index = OsvIndex([pypi_zip])
    groups = AliasGroups(index)
    sampled = sample(index)
    pairs = [(n, v) for n, _, v in sampled]
    assert len(set(pairs)) >= MIN_PAIRS

    grouped = layers(sampled)
    root = tmp_path / "root"
    build_rootfs(root, grouped)
    with serve(index) as (url, requests_seen):
        peer = run_pip_audit(url, tmp_path, grouped)
    assert requests_seen.count("/v1/query") >= MIN_PAIRS, "pip-audit did not query the loopback server"

    cache = tmp_path / "rampart-cache"
    import_db(cache, pypi_zip)
    ours = rampart_results(scan_json(cache, root))

    differences = compare(pairs, peer, ours, groups)
    unexplained = {k: v for k, v in differences.items() if _documented(*k, groups) is None}
    stale = [
        k
        for k in DOCUMENTED_EXCEPTIONS
        if not any(d[:2] == k[:2] and groups.keys([d[2]]) == groups.keys([k[2]]) for d in differences)
    ]
    vulnerable = sum(1 for p in pairs if peer[p])
    report = "\n".join(f"  {n}=={v} {rec}: {side}" for (n, v, rec), side in sorted(unexplained.items()))
    assert not unexplained, f"{len(unexplained)} disagreements over {len(pairs)} pairs:\n{report}"
    assert not stale, f"documented exceptions that no longer occur: {stale}"
    assert vulnerable >= MIN_VULNERABLE, f"only {vulnerable} vulnerable pairs: the sample is too easy"
    assert len(pairs) - vulnerable >= MIN_CLEAN, "too few clean pairs in the sample"
