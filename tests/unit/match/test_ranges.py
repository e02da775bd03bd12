"""OSV range evaluation: the event walk, limits, and when unparseable versions still allow a verdict."""

from __future__ import annotations

import pytest

from rampart.match.ranges import describe, fixed_versions, range_verdict, unparseable_bounds
from rampart.model import Event, Range
from rampart.versions.base import try_parse
from rampart.versions.dpkg import DPKG
from rampart.versions.pep440 import PEP440


def rng(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, tuple(Event(k, v) for k, v in events))


def verdict(r: Range, version: str) -> bool | None:
    return range_verdict(r, PEP440, try_parse(PEP440, version))


INTRO_FIXED = rng(("introduced", "1.0"), ("fixed", "1.5"))
LAST_AFFECTED = rng(("introduced", "0"), ("last_affected", "2.1.214"))
TWO_WINDOWS = rng(
    ("introduced", "3.0"), ("fixed", "3.2.5"), ("introduced", "1.0"), ("fixed", "1.0.2")
)  # unsorted
LIMITED = rng(("introduced", "1.0"), ("limit", "2.0"))


@pytest.mark.parametrize(
    ("r", "version", "expected"),
    [
        (INTRO_FIXED, "0.9", False),
        (INTRO_FIXED, "1.0", True),  # introduced is inclusive
        (INTRO_FIXED, "1.4.99", True),
        (INTRO_FIXED, "1.5", False),  # fixed is exclusive
        (INTRO_FIXED, "1.5rc1", True),  # a pre-release of the fix is still affected
        (LAST_AFFECTED, "0.0.1", True),
        (LAST_AFFECTED, "2.1.214", True),  # last_affected is inclusive
        (LAST_AFFECTED, "2.1.215", False),
        (TWO_WINDOWS, "1.0.1", True),
        (TWO_WINDOWS, "2.0", False),  # between the windows
        (TWO_WINDOWS, "3.1", True),
        (TWO_WINDOWS, "3.2.5", False),
        (LIMITED, "1.9", True),
        (LIMITED, "2.0", False),  # at or above the limit
        (LIMITED, "0.5", False),
        (rng(("introduced", "0")), "999", True),
        (rng(("introduced", "1.0"), ("limit", "*")), "999", True),
        (rng(("introduced", "1.0"), ("fixed", "2.0"), ("limit", "1.5")), "1.7", False),
    ],
)
def test_osv_walk(r: Range, version: str, expected: bool) -> None:
    assert verdict(r, version) is expected


def test_dpkg_range_from_the_issue() -> None:
    r = rng(("introduced", "0"), ("fixed", "2:1.20.11-1+deb11u6"))
    assert range_verdict(r, DPKG, DPKG.parse("2:1.20.11-1+deb11u5")) is True
    assert range_verdict(r, DPKG, DPKG.parse("2:1.20.11-1+deb11u6")) is False


class TestUnparseableBounds:
    """A range with unparseable events is judged only when no unknown event could change the answer."""

    def test_unparseable_fix_leaves_affected_undecided(self) -> None:
        r = rng(("introduced", "0"), ("fixed", "2.0.0-final"))
        assert verdict(r, "1.0") is None  # the fix might be below 1.0: no guess
        assert unparseable_bounds(r, PEP440) == ("2.0.0-final",)

    def test_unparseable_last_affected_still_clears_below_a_known_lower_bound(self) -> None:
        # below introduced 1.0 the unknown last_affected can only switch "off": "not affected" holds
        r = rng(("introduced", "1.0"), ("last_affected", "2.9.0-NA"))
        assert verdict(r, "0.5") is False
        assert verdict(r, "1.5") is None

    def test_known_fix_wins_when_the_unknown_event_also_switches_off(self) -> None:
        # PYSEC-2024-264 shape: several last_affected, one unparseable; above a known fix: not affected
        r = rng(("introduced", "0"), ("last_affected", "2.9.0-NA"), ("fixed", "2.9.0"))
        assert verdict(r, "2.9.1") is False
        assert verdict(r, "2.8") is None

    def test_unparseable_introduced_cannot_be_ruled_out_above_a_fix(self) -> None:
        r = rng(("introduced", "0.1-bulbasaur"), ("fixed", "2.0"))
        assert verdict(r, "3.0") is None  # a later "introduced" could re-open the range
        assert verdict(r, "1.0") is None

    def test_unparseable_limit(self) -> None:
        r = rng(("introduced", "1.0"), ("limit", "weird-limit"))
        assert verdict(r, "0.1") is False  # not introduced: limit is irrelevant
        assert verdict(r, "1.5") is None


class TestUnparseableInstalledVersion:
    def test_open_range_from_zero_affects_every_version(self) -> None:
        assert range_verdict(rng(("introduced", "0")), PEP440, None) is True

    def test_any_other_bound_is_undecided(self) -> None:
        assert range_verdict(INTRO_FIXED, PEP440, None) is None
        assert range_verdict(rng(("introduced", "0"), ("fixed", "1.0")), PEP440, None) is None


def test_describe_and_fixed() -> None:
    r = rng(("introduced", "0"), ("fixed", "2:1.20.11-1+deb11u6"))
    assert describe(r) == "ECOSYSTEM >=0, <2:1.20.11-1+deb11u6"
    assert describe(LAST_AFFECTED) == "ECOSYSTEM >=0, <=2.1.214"
    assert describe(LIMITED) == "ECOSYSTEM >=1.0, limit <2.0"
    assert fixed_versions(TWO_WINDOWS) == ("3.2.5", "1.0.2")
    assert fixed_versions(LAST_AFFECTED) == ()
