"""The matcher on real OSV records read straight from the shared zips, and its speed on a host-sized load."""

from __future__ import annotations

import time
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
    source = make_source(*osv_loader("PyPI", {"PYSEC-2017-143"}))  # glance: introduced 0, last_affected 11.0.0
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


def test_whole_data_never_crashes_and_a_host_matches_fast(
    osv_loader: Loader, make_source: Callable[..., Any]
) -> None:
    """~2,000 packages (Debian 10 binaries, three per source, plus PyPI) against all ~20k real records."""
    advisories = [a for eco in ("Debian", "PyPI", "Go") for a in osv_loader(eco)]
    source = make_source(*advisories)
    names = sorted({(a.ecosystem, a.name) for adv in advisories for a in adv.affected})
    debian = [n for e, n in names if e == "Debian:10"][:600]
    packages = [pkg(f"{n}-bin{i}", "1.0-1", "Debian:10", source_name=n) for n in debian for i in range(3)]
    pypi = [n for e, n in names if e == "PyPI"][: 2_000 - len(packages)]
    packages += [pkg(n, "1.0", "PyPI") for n in pypi]
    assert len(packages) == 2_000
    match_packages(packages[:10], source)  # warm imports
    started = time.perf_counter()
    out = match_packages(packages, source)
    elapsed = time.perf_counter() - started
    assert len(out.findings) > 1_000
    started = time.perf_counter()
    match_packages(packages, source)
    rerun = time.perf_counter() - started
    assert min(elapsed, rerun) < 0.2, (elapsed, rerun)
