"""Maven version order (the rules of Maven's ComparableVersion), for ``Maven`` ECOSYSTEM ranges.

A version is lower-cased and cut into items: ``.`` separates items of one list, ``-`` and every change
between digits and letters open a nested list. Numbers compare numerically and sort after qualifiers;
known qualifiers sort ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp``;
``a1``/``b1``/``m1`` mean alpha/beta/milestone; unknown qualifiers sort after ``sp``, alphabetically.
Trailing zero/empty items are dropped (``1.0.0`` equals ``1``), so equal versions have equal keys.
Empty strings, whitespace, control characters and strings over 256 characters raise InvalidVersion.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeAlias

from rampart.versions.base import InvalidVersion, KeyedScheme

MAX_LENGTH = 256
_VALID = re.compile(r"[!-~]{1,256}")
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE = str(_QUALIFIERS.index(""))

# An item: an int, a qualifier's comparable string, or a tuple of items (a nested list).
Item: TypeAlias = int | str | tuple[Any, ...]


def _qualifier(text: str, followed_by_digit: bool) -> str:
    """The comparable form of a qualifier: its rank digit, or ``7-<text>`` for unknown ones."""
    if followed_by_digit and text in _SHORT:
        text = _SHORT[text]
    text = _ALIASES.get(text, text)
    if text in _QUALIFIERS:
        return str(_QUALIFIERS.index(text))
    return f"{len(_QUALIFIERS)}-{text}"


def _is_null(item: Item) -> bool:
    return item == 0 or item == _RELEASE or item == ()


def _normalize(items: list[Item]) -> tuple[Item, ...]:
    """Drop null items from the end, looking past nested lists (as ComparableVersion does)."""
    for index in range(len(items) - 1, -1, -1):
        if _is_null(items[index]):
            del items[index]
        elif not isinstance(items[index], tuple):
            break
    return tuple(items)


def _token(text: str, digits: bool, followed_by_digit: bool = False) -> Item:
    return int(text) if digits else _qualifier(text, followed_by_digit)


class _Parser:
    """Builds the nested item lists of one version string."""

    def __init__(self) -> None:
        self.stack: list[list[Item]] = [[]]

    def add(self, item: Item) -> None:
        self.stack[-1].append(item)

    def open_list(self) -> None:
        self.stack.append([])

    def close_all(self) -> tuple[Item, ...]:
        while len(self.stack) > 1:
            inner = _normalize(self.stack.pop())
            self.stack[-1].append(inner)
        return _normalize(self.stack[0])


def _split(text: str) -> tuple[Item, ...]:
    parser, start, digits = _Parser(), 0, False
    for index, char in enumerate(text):
        if char in ".-":
            parser.add(_token(text[start:index], digits) if index > start else 0)
            start = index + 1
            if char == "-":
                parser.open_list()
        elif char.isdigit() != digits and index > start:
            parser.add(_token(text[start:index], digits, followed_by_digit=not digits))
            start = index
            parser.open_list()
        if char not in ".-":
            digits = char.isdigit()
    if len(text) > start:
        parser.add(_token(text[start:], digits))
    return parser.close_all()


def _compare_null(item: Item) -> int:
    """How an item compares with a missing one."""
    if isinstance(item, int):
        return 0 if item == 0 else 1
    if isinstance(item, str):
        return (item > _RELEASE) - (item < _RELEASE)
    return next((r for r in map(_compare_null, item) if r), 0)


def _rank(item: Item) -> int:
    return 2 if isinstance(item, int) else (1 if isinstance(item, tuple) else 0)


def compare_items(left: Item | None, right: Item | None) -> int:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right`` (None: a missing item)."""
    if left is None:
        return 0 if right is None else -compare_items(right, None)
    if right is None:
        return _compare_null(left)
    if _rank(left) != _rank(right):
        return -1 if _rank(left) < _rank(right) else 1
    if isinstance(left, tuple) and isinstance(right, tuple):
        return _compare_lists(left, right)
    return (left > right) - (left < right)  # type: ignore[operator]


def _compare_lists(left: tuple[Item, ...], right: tuple[Item, ...]) -> int:
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else None
        b = right[index] if index < len(right) else None
        result = compare_items(a, b)
        if result:
            return result
    return 0


class MavenKey:
    """A parsed Maven version, ordered by ComparableVersion's rules."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Item, ...]) -> None:
        self.items = items

    def __lt__(self, other: MavenKey) -> bool:
        return _compare_lists(self.items, other.items) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenKey) and self.items == other.items

    def __hash__(self) -> int:
        return hash(self.items)

    def __repr__(self) -> str:
        return f"MavenKey({self.items!r})"


@lru_cache(maxsize=100_000)
def maven_key(text: str) -> MavenKey:
    """The order key of a Maven version; raises InvalidVersion."""
    if not _VALID.fullmatch(text):
        raise InvalidVersion("maven", text)
    return MavenKey(_split(text.lower()))


MAVEN = KeyedScheme("maven", maven_key)
"""Maven (Java) package versions."""
