"""Go versions: module versions with or without v, pseudo-versions, +incompatible, toolchain names."""

from __future__ import annotations

import pytest

from rampart.versions.base import InvalidVersion
from rampart.versions.golang import GO

PAIRS = [
    ("v1.2.3", "1.2.3", 0),
    ("v2.0.0+incompatible", "2.0.0", 0),
    ("go1.20", "1.20.0", 0),
    ("go1.20.3", "1.20.3", 0),
    ("go1", "1.0.0", 0),
    ("go1.21rc2", "1.21.0-rc.2", 0),
    ("go1.20beta1", "1.20.0-beta.1", 0),
    ("go1.21rc2", "go1.21.0", -1),
    ("1.21.0-0", "go1.21rc1", -1),  # OSV's 'X.Y.0-0' sorts below every pre-release
    ("go1.20.10", "go1.20.9", 1),
    # pseudo-versions are pre-releases of the next patch and order by timestamp
    ("v0.0.0-20210101000000-abcdef123456", "v0.0.0-20220101000000-000000000000", -1),
    ("v0.0.0-20210101000000-abcdef123456", "v0.0.1", -1),
    ("v1.0.4-0.20180125103619-43913f2f4fbd", "v1.0.3", 1),
    ("v1.0.4-0.20180125103619-43913f2f4fbd", "v1.0.4", -1),
]


@pytest.mark.parametrize(("a", "b", "sign"), PAIRS)
def test_tricky_pairs(a: str, b: str, sign: int) -> None:
    assert GO.compare(a, b) == sign
    assert GO.compare(b, a) == -sign


@pytest.mark.parametrize("text", ["", "devel", "go", "go1.20x", "1.2", "vgo1.20", "(devel)"])
def test_unknown_forms_are_refused(text: str) -> None:
    with pytest.raises(InvalidVersion):
        GO.parse(text)
