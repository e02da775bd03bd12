"""apk version order: a table of orderings that follow from apk's rules, and what apk refuses."""

from __future__ import annotations

import itertools

import pytest

from rampart.versions.apk import APK
from rampart.versions.base import InvalidVersion

# Each list is strictly increasing under apk's order.
CHAINS = [
    ["1.0_alpha", "1.0_beta", "1.0_pre", "1.0_rc", "1.0", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p"],
    ["1.0_rc1", "1.0_rc2", "1.0_rc10", "1.0"],
    ["1.0_alpha1", "1.0_alpha2_p1", "1.0_beta"],
    ["1.0", "1.0-r0", "1.0-r1", "1.0-r2", "1.0-r10"],
    ["1.0", "1.0-r1", "1.0~0a1b", "1.0_p1", "1.0a", "1.0b", "1.0z", "1.0.0", "1.0.1"],
    ["1.0_rc1-r9", "1.0-r0", "1.0_p1-r0"],
    ["1.01", "1.05", "1.1", "1.9", "1.10"],  # a leading zero compares as text
    ["1.0", "1.00", "1.001", "1.01", "1.010"],
    ["0.9", "0.10", "1", "1.0", "2", "10", "10.0.1"],
    ["3.0.13-r0", "3.0.13-r1", "3.0.14-r0", "3.1.0_alpha1-r0", "3.1.0-r0"],
    ["1.2.3_git20230101", "1.2.3_git20230102", "1.2.3_p0", "1.2.4_pre1"],
    ["1.0~0abc-r0", "1.0~0abd", "1.0~1"],
]
EQUAL = [("1.0", "1.0"), ("1.0-r01", "1.0-r1"), ("01.0", "1.0"), ("1.0_p01", "1.0_p1")]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_chains_are_increasing(chain: list[str]) -> None:
    for low, high in itertools.pairwise(chain):
        assert APK.compare(low, high) == -1, (low, high)
        assert APK.compare(high, low) == 1, (high, low)
    assert sorted(reversed(chain), key=APK.parse) == chain


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions(a: str, b: str) -> None:
    assert (
        APK.compare(a, b) == 0 and APK.parse(a) == APK.parse(b) and hash(APK.parse(a)) == hash(APK.parse(b))
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a1",
        "v1.0",
        "1.0-r",
        "1..0",
        "1.",
        "1.0_foo",
        "1.0ab",
        "1.0-1",
        "1.0_rc1a",
        "1.0 ",
        "1.0-r1-r2",
        "1.0-r1_p1",
        "1.0~",
        "1.0~xyz",
        "1.0~a-r1~b",
        "1.0a.1",
        "1" * 300,
        "1.0\x00",
    ],
)
def test_refuses_what_apk_refuses(text: str) -> None:
    with pytest.raises(InvalidVersion, match="apk"):
        APK.parse(text)
