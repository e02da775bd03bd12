"""SemVer 2.0 precedence for npm (python-semver parses; rampart keys), and the loose forms npm cleans."""

from __future__ import annotations

import pytest

from rampart.versions.base import InvalidVersion
from rampart.versions.semver import SEMVER

# The precedence chain from SemVer 2.0 section 11, plus build metadata and npm's clean-able forms.
CHAIN = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11"]
CHAIN += ["1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0"]

EQUAL = [
    ("1.0.0+build.1", "1.0.0+build.2"),  # build metadata is ignored
    ("1.0.0+exp", "1.0.0"),
    ("v1.2.3", "1.2.3"),
    ("=1.2.3", "1.2.3"),
    (" 1.2.3 ", "1.2.3"),
]


@pytest.mark.parametrize("index", range(len(CHAIN) - 1))
def test_precedence_chain(index: int) -> None:
    assert SEMVER.compare(CHAIN[index], CHAIN[index + 1]) == -1
    assert SEMVER.compare(CHAIN[index + 1], CHAIN[index]) == 1


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_forms(a: str, b: str) -> None:
    assert SEMVER.compare(a, b) == 0


@pytest.mark.parametrize("text", ["1.2", "1", "^1.2.3", "1.2.3.4", "01.2.3", "latest", "", "vv1.2.3"])
def test_loose_or_range_forms_are_refused(text: str) -> None:
    with pytest.raises(InvalidVersion):
        SEMVER.parse(text)


def test_numeric_prerelease_identifiers_compare_as_numbers() -> None:
    assert SEMVER.compare("1.0.0-rc.9", "1.0.0-rc.10") == -1
    assert SEMVER.compare("1.0.0-9", "1.0.0-a") == -1
