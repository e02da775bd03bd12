"""dpkg version order: hand-picked tricky pairs, and a differential test against the real dpkg binary."""

from __future__ import annotations

import json
import random
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from debian.debian_support import Version as DebianVersion

from rampart.versions.base import InvalidVersion
from rampart.versions.dpkg import DPKG

# (a, b, expected sign of a compared with b)
PAIRS = [
    ("1.0", "1.0", 0),
    ("1.0", "1.0-0", 0),  # absent revision equals revision 0
    ("0:1.0", "1.0", 0),  # absent epoch is 0
    ("1:0.1", "9.9", 1),  # epoch wins
    ("1.0~rc1", "1.0", -1),  # tilde sorts before the end
    ("1.0~~", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.0", "1.0+b1", -1),  # binNMU after the plain version
    ("1.0-1", "1.0-1+b1", -1),
    ("1.0-1+b1", "1.0-2", -1),
    ("1.0a", "1.0+", -1),  # letters before other characters
    ("1.0a", "1.0", 1),
    ("1.0.0", "1.0", 1),
    ("1.0", "1.0.", -1),
    ("1.10", "1.9", 1),  # numeric runs compare as numbers
    ("1.010", "1.10", 0),
    ("2:1.20.11-1+deb11u5", "2:1.20.11-1+deb11u6", -1),
    ("1.2.3-1+deb11u1", "1.2.3-1+deb12u1", -1),
    ("1.2.3-1~deb11u1", "1.2.3-1", -1),
    ("7.4.52-1+deb10u10", "7.4.52-1+deb10u9", 1),
    ("1.0-1ubuntu0.1", "1.0-1", 1),
    ("1:2:3", "1:2:4", -1),  # colons allowed in upstream when there is an epoch
    ("1.0-a-b", "1.0-a", 1),  # revision is after the last hyphen: upstream 1.0-a vs 1.0
]


@pytest.mark.parametrize(("a", "b", "sign"), PAIRS)
def test_tricky_pairs(a: str, b: str, sign: int) -> None:
    assert DPKG.compare(a, b) == sign
    assert DPKG.compare(b, a) == -sign


@pytest.mark.parametrize("text", ["", "a:1.0", "1.0 1", "1:", "1.0-", "-1", "1:-1", "1_0", "1.0/2"])
def test_refuses_what_dpkg_refuses(text: str) -> None:
    with pytest.raises(InvalidVersion):
        DPKG.parse(text)


def _real_debian_versions(vulndata: Path) -> list[str]:
    versions: set[str] = set()
    with zipfile.ZipFile(vulndata / "osv" / "Debian" / "all.zip") as archive:
        for name in sorted(archive.namelist())[::40]:
            record = json.loads(archive.read(name))
            for affected in record.get("affected", []):
                for rng in affected.get("ranges", []):
                    versions.update(v for e in rng["events"] for v in e.values() if v != "0")
    return sorted(versions)


def _mutations(version: str) -> list[str]:
    return [version + "+b1", version + "~rc1", "1:" + version, version.replace(".", "~", 1)]


def _dpkg_signs(pairs: list[tuple[str, str]]) -> list[int]:
    lines = [
        f"if dpkg --compare-versions {shlex.quote(a)} lt {shlex.quote(b)}; then echo -1; "
        f"elif dpkg --compare-versions {shlex.quote(a)} eq {shlex.quote(b)}; then echo 0; else echo 1; fi"
        for a, b in pairs
    ]
    done = subprocess.run(["sh", "-c", "\n".join(lines)], capture_output=True, text=True, check=True)
    return [int(x) for x in done.stdout.split()]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg binary not installed")
def test_order_matches_the_dpkg_binary(vulndata_dir: Path) -> None:
    rng = random.Random(1393)
    real = _real_debian_versions(vulndata_dir)
    pool = [*real, *(m for v in rng.sample(real, 40) for m in _mutations(v)), *(p[0] for p in PAIRS)]
    pairs = [(rng.choice(pool), rng.choice(pool)) for _ in range(250)]
    pairs += [(v, m) for v in rng.sample(real, 30) for m in _mutations(v)]  # near neighbours
    pairs += [(a, b) for a, b, _ in PAIRS]
    assert len(pairs) >= 300
    ours = [DPKG.compare(a, b) for a, b in pairs]
    mismatches = [(p, o, d) for p, o, d in zip(pairs, ours, _dpkg_signs(pairs), strict=True) if o != d]
    assert mismatches == []


def test_key_order_agrees_with_python_debian() -> None:
    """dpkg.py builds its own sort key for speed (benchmarks/matcher.py measures it); the order must not change."""
    texts = [f"2:1.{i % 40}.{i}-1+deb11u{i % 7}" for i in range(400)]
    pairs = list(zip(texts, reversed(texts), strict=True))
    ours = [DPKG.parse(a) < DPKG.parse(b) for a, b in pairs]
    theirs = [DebianVersion(a) < DebianVersion(b) for a, b in pairs]
    assert ours == theirs
