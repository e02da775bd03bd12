"""PEP 440 version order for PyPI, by ``packaging.version.Version``.

Covers epochs, pre/post/dev releases and local versions (``1.0+local`` sorts after
``1.0``); legacy strings that PEP 440 rejects raise InvalidVersion rather than
being guessed at.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version

from rampart.versions.base import InvalidVersion, KeyedScheme


@lru_cache(maxsize=100_000)
def pep440_key(text: str) -> Version:
    """The parsed PEP 440 version; raises InvalidVersion."""
    try:
        return Version(text)
    except PackagingInvalidVersion:
        raise InvalidVersion("pep440", text) from None


PEP440 = KeyedScheme("pep440", pep440_key)
"""Python package versions."""
