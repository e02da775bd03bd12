"""The matcher on real OSV records read straight from the shared zips, and its speed on a host-sized load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rampart.match.engine import match_packages
from rampart.model import Advisory, Package, Severity

Loader = Callable[..., list[Advisory]]


def pkg(name: str, version: str, ecosystem: str, **extra: str) -> Package:
    return Package(name, version, ecosystem, location="/var/lib/dpkg/status", extractor="test", **extra)


def test_xorg_server_dsa_5380(osv_loader: Loader, make_source: Callable[..., Any]) -> None:
    source = make_source(*osv_loader("Debian", {"DSA-5380-1"}))
    vulnerable = pkg("xserver-xorg-core", "2:1.20.11-1+deb11u5", "Debian:11", source_name="xorg-server")
    patched = pkg("xserver-xorg-core", "2:1.20.11-1+deb11u6", "Debian:11", source_name="xorg-server")
    out = match_packages([vulnerable, patched], source)
    (finding,) = out.findings
    assert (finding.vulnerability_id, finding.package) == ("CVE-2023-1393", vulnerable)
    assert finding.advisory_ids == ("DSA-5380-1",)
    assert finding.fixed_versions == ("2:1.20.11-1+deb11u6",)
    assert finding.evidence[0].matched == "ECOSYSTEM >=0, <2:1.20.11-1+deb11u6"
    assert out.unmatchable == ()


def test_pypi_last_affected_record(osv_loader: Loader, make_source: Callable[..., Any]) -> None:
    source = make_source(
        *osv_loader("PyPI", {"PYSEC-2017-143"})
    )  # glance: introduced 0, last_affected 11.0.0
    out = match_packages([pkg("Glance", "11.0.0", "PyPI"), pkg("glance", "11.0.1", "PyPI")], source)
    (finding,) = out.findings
    assert (finding.vulnerability_id, finding.package.version) == ("CVE-2015-8234", "11.0.0")
    assert finding.fixed_versions == ()
    assert finding.aliases == ("GHSA-wmhw-fvg9-87fc", "PYSEC-2017-143")
    assert (finding.severity, finding.cvss_score) == (Severity.MEDIUM, 5.5)


def test_go_stdlib_record(osv_loader: Loader, make_source: Callable[..., Any]) -> None:
    source = make_source(*osv_loader("Go", {"GO-2021-0160"}))  # stdlib: introduced 1.5.0-0, fixed 1.5.3
    out = match_packages([pkg("stdlib", "go1.5.2", "Go"), pkg("stdlib", "go1.5.3", "Go")], source)
    assert [(f.package.version, f.vulnerability_id) for f in out.findings] == [("go1.5.2", "CVE-2015-8618")]


def _newest_fix(advisories: list[Advisory], ecosystem: str) -> dict[str, str]:
    """Per package: the last ``fixed`` version seen in the data (what a patched host runs)."""
    newest: dict[str, str] = {}
    for advisory in advisories:
        for entry in advisory.affected:
            fixes = [e.version for r in entry.ranges for e in r.events if e.kind == "fixed"]
            if entry.ecosystem == ecosystem and fixes:
                newest[entry.name] = fixes[-1]
    return newest


def _host(advisories: list[Advisory]) -> list[Package]:
    """~2,000 packages: Debian 10 binaries (three per source) and PyPI packages; two in three patched."""
    deb, pypi = _newest_fix(advisories, "Debian:10"), _newest_fix(advisories, "PyPI")
    packages = [
        pkg(f"{n}-bin{i}", v if k % 3 else "1.0-1", "Debian:10", source_name=n)
        for k, (n, v) in enumerate(sorted(deb.items())[:500])
        for i in range(3)
    ]
    packages += [pkg(n, v if k % 3 else "0.1", "PyPI") for k, (n, v) in enumerate(sorted(pypi.items()))]
    return packages[:2_000]


def test_whole_data_never_crashes_on_a_host_sized_inventory(
    osv_loader: Loader, make_source: Callable[..., Any]
) -> None:
    """A host-sized inventory against all ~20k real records gives sound results (speed: benchmarks/matcher.py)."""
    advisories = [a for eco in ("Debian", "PyPI", "Go") for a in osv_loader(eco)]
    source = make_source(*advisories)
    packages = _host(advisories)
    assert len(packages) == 2_000
    out = match_packages(packages, source)
    assert len(out.findings) > 500
    assert {f.package.version for f in out.findings} & {"1.0-1", "0.1"}
