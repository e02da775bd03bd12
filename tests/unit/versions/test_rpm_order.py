"""rpm version order: a table of EVR orderings that follow from rpmvercmp's rules, and refused strings.

Every ordering here was also checked once against ``rpm.vercmp`` of rpm 4.18 (Debian's ``rpm`` package).
"""

from __future__ import annotations

import itertools

import pytest

from rampart.versions.base import InvalidVersion
from rampart.versions.rpm import RPM, vercmp_key

# Each list is strictly increasing under rpm's order.
CHAINS = [
    ["1.0~rc1", "1.0~rc2", "1.0", "1.0^git1", "1.0^git2", "1.0.1"],  # tilde before end, caret after
    ["1.0~~", "1.0~", "1.0~rc1^x", "1.0~rc1^y", "1.0~rc2"],
    ["1.0", "1.0a", "1.0b2", "1.0b10", "1.0.0"],  # letters before numbers, numbers as integers
    ["1.0B", "1.0a"],  # ASCII text order
    ["0.9.9", "1.0", "1.1", "1.9", "1.10", "10"],
    ["1.0", "1.0-1", "1.0-1.el9", "1.0-1.el9_1", "1.0-2", "1.0-10"],
    ["9.9-9", "0:10-1", "1:0.1-1", "1:1.0-1", "2:0"],  # epoch first
    ["2.34-60.el9", "2.34-60.el9_2.7", "2.34-83.el9", "2.35-1.fc36"],
    ["1.0-1~", "1.0-1", "1.0-1^"],
]
EQUAL = [
    ("1.0", "1.0"),
    ("1.0", "1_0"),  # separators only separate
    ("1..0", "1.0"),
    ("1.0.", "1.0"),
    ("1.01", "1.1"),  # leading zeros ignored
    ("0:1.0-1", "1.0-1"),  # absent epoch is 0
    ("1.00", "1.0"),
]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c[0])
def test_chains_are_increasing(chain: list[str]) -> None:
    for low, high in itertools.pairwise(chain):
        assert RPM.compare(low, high) == -1, (low, high)
        assert RPM.compare(high, low) == 1, (high, low)
    assert sorted(reversed(chain), key=RPM.parse) == chain


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions(a: str, b: str) -> None:
    assert RPM.compare(a, b) == 0 and hash(RPM.parse(a)) == hash(RPM.parse(b))


def test_release_is_compared_after_version() -> None:
    assert RPM.compare("1.1-1", "1.0-99") == 1
    assert RPM.compare("1.0-99", "1.1-1") == -1
    assert vercmp_key("el9_1") > vercmp_key("el9")


@pytest.mark.parametrize(
    "text", ["", "1.0-", ":1.0", "a:1.0", "1:", "1:-1", "1.0 1", "1.0\x00", "1.0\n", "1:2:3", "1" * 600]
)
def test_refuses_unusable_strings(text: str) -> None:
    with pytest.raises(InvalidVersion, match="rpm"):
        RPM.parse(text)
