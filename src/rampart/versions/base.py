"""The VersionScheme protocol every comparator follows, its errors, and a cached, failure-tolerant parse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from rampart.errors import ParseError, RampartError


class InvalidVersion(ParseError):
    """A version string that its scheme cannot order."""

    def __init__(self, scheme: str, text: str) -> None:
        super().__init__(f"{text!r} is not a valid {scheme} version")
        self.scheme = scheme
        self.text = text


class UnsupportedEcosystem(RampartError):
    """No version scheme is known for an ecosystem."""


class VersionKey(Protocol):
    """What ``parse`` returns: a value ordered (and equal) exactly as the scheme orders versions."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __hash__(self) -> int: ...


class VersionScheme(Protocol):
    """One ecosystem's version order: ``parse`` raises InvalidVersion; ``compare`` returns -1, 0 or 1."""

    @property
    def name(self) -> str: ...

    def parse(self, text: str) -> VersionKey: ...

    def compare(self, a: str, b: str) -> int: ...

    def __hash__(self) -> int: ...


@dataclass(frozen=True, eq=False)
class KeyedScheme:
    """A scheme defined by its sort-key function (each scheme module builds one).

    Schemes are singletons compared by identity, which keeps them cheap to hash as cache keys.
    """

    name: str
    key: Callable[[str], VersionKey]

    def parse(self, text: str) -> VersionKey:
        return self.key(text)

    def compare(self, a: str, b: str) -> int:
        return compare_keys(self.key(a), self.key(b))


def compare_keys(a: VersionKey, b: VersionKey) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to, or after ``b``."""
    if a < b:
        return -1
    return 1 if b < a else 0


@lru_cache(maxsize=200_000)
def try_parse(scheme: VersionScheme, text: str) -> VersionKey | None:
    """``scheme.parse(text)``, or None when it does not parse; cached, failures included."""
    try:
        return scheme.parse(text)
    except InvalidVersion:
        return None
