"""Maven version order: ComparableVersion's rules, checked against an ordering table."""

from __future__ import annotations

import itertools

import pytest

from rampart.versions.base import InvalidVersion
from rampart.versions.maven import MAVEN, maven_key

# Each row sorts strictly before the next.
ASCENDING = [
    "1-alpha-1",
    "1-alpha-2",
    "1-beta",
    "1-milestone-1",
    "1-rc",
    "1-snapshot",
    "1",
    "1-sp",
    "1-sp-1",
    "1-abc",
    "1-xyz",
    "1-1",
    "1.0.0.1",
    "1.0.1",
    "1.1",
    "1.2.3",
    "1.10",
    "2.0-alpha",
    "2.0-RC1",
    "2.0",
    "2.13.4.2",
    "10.0",
]

EQUAL = [
    ("1", "1.0"),
    ("1", "1.0.0"),
    ("1.0", "1-0"),
    ("1.0", "1.0-ga"),
    ("1.0", "1.0-final"),
    ("2.0", "2.0.0.RELEASE"),
    ("2.0.0.Final", "2.0"),
    ("1.0-cr1", "1.0-rc1"),
    ("1.0a1", "1.0-alpha-1"),
    ("1.0b1", "1.0-beta-1"),
    ("1.0m1", "1.0-milestone-1"),
    ("1.0-SNAPSHOT", "1.0-snapshot"),
    ("1-1.foo-bar1baz-.1", "1-1.foo-bar-1-baz-0.1"),
    ("1.0..0", "1.0"),
]


def test_ascending_table() -> None:
    for low, high in itertools.combinations(ASCENDING, 2):
        assert MAVEN.compare(low, high) == -1, (low, high)
        assert MAVEN.compare(high, low) == 1, (high, low)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions_have_equal_keys(a: str, b: str) -> None:
    assert MAVEN.compare(a, b) == 0
    assert maven_key(a) == maven_key(b) and hash(maven_key(a)) == hash(maven_key(b))


def test_sorting_with_keys() -> None:
    shuffled = sorted(ASCENDING, key=lambda v: (len(v), v))
    assert sorted(shuffled, key=maven_key) == ASCENDING


def test_snapshot_and_qualifiers_around_release() -> None:
    assert MAVEN.compare("1.0-SNAPSHOT", "1.0") == -1
    assert MAVEN.compare("1.0-alpha", "1.0") == -1
    assert MAVEN.compare("1.0", "1.0.1") == -1
    assert MAVEN.compare("1.0-sp", "1.0.1") == -1
    assert MAVEN.compare("1.0.0-20230101.120000-1", "1.0.0") == 1


def test_huge_numbers_compare_numerically() -> None:
    assert MAVEN.compare("1." + "9" * 100, "1." + "1" + "0" * 100) == -1


@pytest.mark.parametrize("text", ["", " ", "1.0 beta", "1.0\x00", "1\n", "1.0\u00e9", "1" * 257])
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidVersion):
        maven_key(text)
