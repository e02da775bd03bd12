"""match_packages on hand-written advisories: OSV semantics, Debian sources, merging, evidence, order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rampart.match.engine import MatchOutcome, match_packages
from rampart.match.names import normalize_name
from rampart.model import Advisory, Affected, Event, Package, Range

Source = Callable[..., Any]


def pkg(name: str, version: str, ecosystem: str = "PyPI", **extra: str) -> Package:
    return Package(name, version, ecosystem, location="/x", extractor="test", **extra)


def eco(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, tuple(Event(k, v) for k, v in events))


def adv(advisory_id: str, *affected: Affected, **fields: Any) -> Advisory:
    return Advisory(advisory_id, "2024-01-01T00:00:00Z", affected=affected, **fields)


def aff(name: str, *ranges: Range, ecosystem: str = "PyPI", versions: tuple[str, ...] = ()) -> Affected:
    return Affected(ecosystem, name, ranges, versions)


FIXED_15 = eco(("introduced", "1.0"), ("fixed", "1.5"))


def run(source: Source, *packages: Package, advisories: tuple[Advisory, ...]) -> MatchOutcome:
    return match_packages(list(packages), source(*advisories))


def ids(outcome: MatchOutcome) -> list[tuple[str, str, str]]:
    return [(f.package.name, f.package.version, f.vulnerability_id) for f in outcome.findings]


class TestOsvSemantics:
    def test_introduced_fixed(self, make_source: Source) -> None:
        a = adv("PYSEC-1", aff("demo", FIXED_15), aliases=("CVE-2024-0001",))
        out = run(make_source, pkg("demo", "1.2"), pkg("demo", "1.5"), pkg("demo", "0.9"), advisories=(a,))
        assert ids(out) == [("demo", "1.2", "CVE-2024-0001")]
        assert out.findings[0].fixed_versions == ("1.5",)
        assert out.unmatchable == ()

    def test_last_affected_is_unfixed(self, make_source: Source) -> None:
        a = adv("PYSEC-2", aff("demo", eco(("introduced", "0"), ("last_affected", "2.0"))))
        out = run(make_source, pkg("demo", "2.0"), pkg("demo", "2.0.1"), advisories=(a,))
        assert ids(out) == [("demo", "2.0", "PYSEC-2")]
        assert out.findings[0].fixed_versions == ()
        assert not out.findings[0].fixed

    def test_limit(self, make_source: Source) -> None:
        a = adv("GHSA-lim", aff("demo", eco(("introduced", "1.0"), ("limit", "2.0"))))
        out = run(make_source, pkg("demo", "1.9"), pkg("demo", "2.0"), advisories=(a,))
        assert ids(out) == [("demo", "1.9", "GHSA-lim")]

    def test_multiple_ranges_report_only_the_matching_ranges_fix(self, make_source: Source) -> None:
        a = adv("X-1", aff("demo", FIXED_15, eco(("introduced", "2.0"), ("fixed", "2.3"))))
        out = run(make_source, pkg("demo", "2.1"), pkg("demo", "1.7"), advisories=(a,))
        assert ids(out) == [("demo", "2.1", "X-1")]
        assert out.findings[0].fixed_versions == ("2.3",)
        assert out.findings[0].evidence[0].matched == "ECOSYSTEM >=2.0, <2.3"

    def test_multiple_affected_entries(self, make_source: Source) -> None:
        a = adv(
            "X-2",
            aff("other", eco(("introduced", "0"))),
            aff("demo", FIXED_15),
            aff("demo", eco(("introduced", "3.0"))),
        )
        out = run(make_source, pkg("demo", "1.1"), pkg("demo", "3.1"), pkg("demo", "2.0"), advisories=(a,))
        assert ids(out) == [("demo", "1.1", "X-2"), ("demo", "3.1", "X-2")]

    def test_versions_list_alone_affects(self, make_source: Source) -> None:
        a = adv("X-3", aff("demo", FIXED_15, versions=("0.4", "7.0.0")))
        out = run(make_source, pkg("demo", "0.4"), pkg("demo", "7.0"), pkg("demo", "0.5"), advisories=(a,))
        assert ids(out) == [("demo", "0.4", "X-3"), ("demo", "7.0", "X-3")]  # 7.0 == 7.0.0 under PEP 440
        assert out.findings[0].evidence[0].matched == "listed in versions"

    def test_withdrawn_is_skipped(self, make_source: Source) -> None:
        a = adv("X-4", aff("demo", FIXED_15), withdrawn="2024-02-01T00:00:00Z")
        assert run(make_source, pkg("demo", "1.2"), advisories=(a,)).findings == ()

    def test_git_ranges_are_ignored(self, make_source: Source) -> None:
        git = Range("GIT", (Event("introduced", "0"), Event("fixed", "a" * 40)))
        a = adv("X-5", aff("demo", git, versions=("1.1",)))
        out = run(make_source, pkg("demo", "1.2"), pkg("demo", "1.1"), advisories=(a,))
        assert ids(out) == [("demo", "1.1", "X-5")]
        assert out.unmatchable == ()

    def test_other_ecosystem_entries_do_not_match(self, make_source: Source) -> None:
        a = adv("X-6", aff("demo", FIXED_15, ecosystem="npm"), aff("demo", FIXED_15))
        out = match_packages([pkg("demo", "1.2")], make_source(a))
        assert [e.matched for e in out.findings[0].evidence] == ["ECOSYSTEM >=1.0, <1.5"]


class TestUnparseable:
    def test_unparseable_installed_version(self, make_source: Source) -> None:
        a = adv("X-7", aff("demo", FIXED_15))
        out = run(make_source, pkg("demo", "1.2-weird-build"), advisories=(a,))
        assert out.findings == ()
        assert [(u.package.version, u.advisory_id) for u in out.unmatchable] == [("1.2-weird-build", "X-7")]
        assert "does not parse as pep440" in out.unmatchable[0].reason

    def test_unparseable_installed_version_still_matches_by_exact_listing(self, make_source: Source) -> None:
        a = adv("X-8", aff("demo", FIXED_15, versions=("1.2-weird-build",)))
        out = run(make_source, pkg("demo", "1.2-weird-build"), advisories=(a,))
        assert ids(out) == [("demo", "1.2-weird-build", "X-8")]
        assert out.unmatchable == ()

    def test_unparseable_bound(self, make_source: Source) -> None:
        a = adv("X-9", aff("demo", eco(("introduced", "0"), ("fixed", "2.0.0-final"))))
        out = run(make_source, pkg("demo", "1.0"), advisories=(a,))
        assert out.findings == ()
        assert "'2.0.0-final'" in out.unmatchable[0].reason

    def test_another_range_that_matches_wins_over_an_unjudgeable_one(self, make_source: Source) -> None:
        a = adv("X-10", aff("demo", eco(("introduced", "0"), ("fixed", "2.0.0-final")), FIXED_15))
        out = run(make_source, pkg("demo", "1.2"), advisories=(a,))
        assert ids(out) == [("demo", "1.2", "X-10")]
        assert out.unmatchable == ()

    def test_unsupported_ecosystem_is_unmatchable(self, make_source: Source) -> None:
        a = adv("X-11", aff("demo", FIXED_15, ecosystem="Hackage"))
        out = run(make_source, pkg("demo", "1.2", ecosystem="Hackage"), advisories=(a,))
        assert out.findings == ()
        assert "no version scheme" in out.unmatchable[0].reason


class TestDebianSources:
    XORG = adv(
        "DSA-5380-1",
        aff("xorg-server", eco(("introduced", "0"), ("fixed", "2:1.20.11-1+deb11u6")), ecosystem="Debian:11"),
        related=("CVE-2023-1393",),
    )

    def test_binary_matched_through_its_source(self, make_source: Source) -> None:
        binary = pkg("xserver-xorg-core", "2:1.20.11-1+deb11u5", "Debian:11", source_name="xorg-server")
        out = run(make_source, binary, advisories=(self.XORG,))
        assert ids(out) == [("xserver-xorg-core", "2:1.20.11-1+deb11u5", "CVE-2023-1393")]
        evidence = out.findings[0].evidence[0]
        assert (evidence.name, evidence.ecosystem, evidence.version) == (
            "xorg-server",
            "Debian:11",
            "2:1.20.11-1+deb11u5",
        )

    def test_other_release_does_not_match(self, make_source: Source) -> None:
        binary = pkg("xserver-xorg-core", "2:1.20.11-1+deb11u5", "Debian:10", source_name="xorg-server")
        assert run(make_source, binary, advisories=(self.XORG,)).findings == ()

    def test_binnmu_compares_the_source_version(self, make_source: Source) -> None:
        a = adv("DSA-9", aff("foo", eco(("introduced", "0"), ("fixed", "1.0-1+b1")), ecosystem="Debian:11"))
        rebuilt = pkg("libfoo1", "1.0-1+b1", "Debian:11", source_name="foo", source_version="1.0-1")
        out = run(make_source, rebuilt, advisories=(a,))
        assert ids(out) == [("libfoo1", "1.0-1+b1", "DSA-9")]  # source 1.0-1 < 1.0-1+b1
        assert out.findings[0].evidence[0].version == "1.0-1"

    def test_binaries_of_one_source_are_judged_once(self, make_source: Source) -> None:
        source = make_source(self.XORG)
        names = ["xserver-xorg-core", "xserver-common", "xvfb"]
        packages = [pkg(n, "2:1.20.11-1+deb11u5", "Debian:11", source_name="xorg-server") for n in names]
        out = match_packages(packages, source)
        assert [f.package.name for f in out.findings] == sorted(names)
        assert source.lookups == 1


class TestMerging:
    def test_each_cve_of_an_advisory_is_a_finding(self, make_source: Source) -> None:
        cves = tuple(f"CVE-2023-000{i}" for i in range(1, 6))
        a = adv(
            "DSA-1",
            aff("tiff", eco(("introduced", "0"), ("fixed", "4.2.0-1+deb11u4")), ecosystem="Debian:11"),
            related=cves,
        )
        out = run(make_source, pkg("tiff", "4.2.0-1+deb11u3", "Debian:11"), advisories=(a,))
        assert [f.vulnerability_id for f in out.findings] == list(cves)
        assert all(f.advisory_ids == ("DSA-1",) for f in out.findings)

    def test_advisories_naming_one_cve_merge(self, make_source: Source) -> None:
        d = "Debian:11"
        a = adv(
            "DSA-2",
            aff("tiff", eco(("introduced", "0"), ("fixed", "4.2.0-1+deb11u10")), ecosystem=d),
            related=("CVE-1",),
        )
        b = adv(
            "DLA-3",
            aff("tiff", eco(("introduced", "0"), ("fixed", "4.2.0-1+deb11u9")), ecosystem=d),
            related=("CVE-1", "CVE-2"),
        )
        out = run(make_source, pkg("tiff", "4.2.0-1+deb11u3", d), advisories=(a, b))
        merged = out.findings[0]
        assert [f.vulnerability_id for f in out.findings] == ["CVE-1", "CVE-2"]
        assert merged.advisory_ids == ("DLA-3", "DSA-2")
        assert merged.fixed_versions == ("4.2.0-1+deb11u9", "4.2.0-1+deb11u10")  # dpkg order, not text order
        assert [e.advisory_id for e in merged.evidence] == ["DLA-3", "DSA-2"]
        assert out.findings[1].advisory_ids == ("DLA-3",)

    def test_alias_closure_merges_cve_less_advisories(self, make_source: Source) -> None:
        a = adv("PYSEC-2024-1", aff("demo", FIXED_15), aliases=("GHSA-aaaa",))
        b = adv(
            "GHSA-aaaa", aff("demo", eco(("introduced", "1.0"), ("fixed", "1.4"))), aliases=("PYSEC-2024-1",)
        )
        c = adv("GHSA-bbbb", aff("demo", FIXED_15))  # unrelated: stays apart
        out = run(make_source, pkg("demo", "1.2"), advisories=(a, b, c))
        assert ids(out) == [("demo", "1.2", "GHSA-aaaa"), ("demo", "1.2", "GHSA-bbbb")]
        assert out.findings[0].advisory_ids == ("GHSA-aaaa", "PYSEC-2024-1")
        assert out.findings[0].fixed_versions == ("1.4", "1.5")
        assert out.findings[0].aliases == ("PYSEC-2024-1",)

    def test_cve_less_advisory_joins_its_aliased_cve(self, make_source: Source) -> None:
        a = adv("PYSEC-2024-2", aff("demo", FIXED_15), aliases=("CVE-2024-9", "GHSA-cccc"))
        b = adv("GHSA-cccc", aff("demo", FIXED_15))
        out = run(make_source, pkg("demo", "1.2"), advisories=(a, b))
        assert ids(out) == [("demo", "1.2", "CVE-2024-9")]
        assert out.findings[0].advisory_ids == ("GHSA-cccc", "PYSEC-2024-2")


class TestLookupAndOrder:
    def test_pypi_names_are_pep503_normalised(self, make_source: Source) -> None:
        assert normalize_name("PyPI", "Zope.Interface__x") == "zope-interface-x"
        assert normalize_name("npm", "Left_Pad") == "Left_Pad"
        a = adv("X-12", aff("zope.interface", FIXED_15))
        assert ids(run(make_source, pkg("Zope_Interface", "1.2"), advisories=(a,))) == [
            ("Zope_Interface", "1.2", "X-12")
        ]

    def test_order_is_package_name_version_vulnerability(self, make_source: Source) -> None:
        a = adv("X-b", aff("zeta", FIXED_15), aff("alpha", FIXED_15))
        b = adv("X-a", aff("zeta", FIXED_15))
        packages = [pkg("zeta", "1.3"), pkg("alpha", "1.2"), pkg("zeta", "1.1")]
        out = run(make_source, *packages, advisories=(a, b))
        assert ids(out) == [
            ("alpha", "1.2", "X-b"),
            ("zeta", "1.1", "X-a"),
            ("zeta", "1.1", "X-b"),
            ("zeta", "1.3", "X-a"),
            ("zeta", "1.3", "X-b"),
        ]


@pytest.mark.parametrize(
    ("version", "hit"), [("v1.2.0", True), ("go1.20", False), ("v0.0.0-20200101000000-abcdefabcdef", True)]
)
def test_go_semver_ranges(make_source: Source, version: str, hit: bool) -> None:
    a = adv(
        "GO-1",
        aff("example.com/mod", eco(("introduced", "0"), ("fixed", "1.3.0"), kind="SEMVER"), ecosystem="Go"),
    )
    out = run(make_source, pkg("example.com/mod", version, "Go"), advisories=(a,))
    assert bool(out.findings) is hit


def test_matcher_fed_in_parts_equals_one_call_and_ignores_repeats(make_source: Callable[..., Any]) -> None:
    from rampart.match.engine import Matcher

    advisory = Advisory(
        "PYSEC-1",
        "2024-01-01T00:00:00Z",
        aliases=("CVE-2024-1",),
        affected=(
            Affected("PyPI", "foo", (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "2.0"))),)),
        ),
    )
    source = make_source(advisory)
    packages = [Package("foo", v, "PyPI", f"/site-packages/{v}", "python") for v in ("1.0", "1.5", "2.0")]
    matcher = Matcher(source)
    matcher.add(packages[:1])
    matcher.add(packages[1:])
    matcher.add(packages[:2])  # repeats change nothing
    assert matcher.outcome() == match_packages(packages, source)
    assert [f.package.version for f in matcher.outcome().findings] == ["1.0", "1.5"]
