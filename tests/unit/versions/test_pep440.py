"""PEP 440 order through packaging: pre/post/dev releases, epochs, local versions, normalisation."""

from __future__ import annotations

import pytest

from rampart.versions.base import InvalidVersion, try_parse
from rampart.versions.pep440 import PEP440

PAIRS = [
    ("1.0", "1.0.0", 0),  # trailing zeros do not matter
    ("1.0.dev1", "1.0a1", -1),
    ("1.0a1", "1.0b1", -1),
    ("1.0b2", "1.0rc1", -1),
    ("1.0rc1", "1.0", -1),
    ("1.0", "1.0.post1", -1),
    ("1.0.post1.dev1", "1.0.post1", -1),
    ("1.0", "1.0+local", -1),  # a local version sorts after its public version
    ("1.0+local.1", "1.0+local.2", -1),
    ("1.0+abc", "1.0+1", -1),  # numeric local segments sort after alphanumeric ones
    ("1!0.1", "2.0", 1),  # epoch wins
    ("1.0-beta1", "1.0b1", 0),  # accepted spellings normalise
    ("1.0.RC1", "1.0rc1", 0),
    ("v1.2", "1.2", 0),
    ("2.9.0-rc1", "2.9.0", -1),
    ("1.10", "1.9", 1),
]


@pytest.mark.parametrize(("a", "b", "sign"), PAIRS)
def test_tricky_pairs(a: str, b: str, sign: int) -> None:
    assert PEP440.compare(a, b) == sign
    assert PEP440.compare(b, a) == -sign


@pytest.mark.parametrize("text", ["2.0.0-final", "0.1-bulbasaur", "2013-01-21T20:33:09+0100", "2.9.0-NA", ""])
def test_legacy_versions_are_refused(text: str) -> None:
    """Strings from the real PyPI data that PEP 440 rejects: refused, never guessed."""
    with pytest.raises(InvalidVersion):
        PEP440.parse(text)
    assert try_parse(PEP440, text) is None
