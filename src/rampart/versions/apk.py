"""Alpine (apk) version order, as ``apk version -t`` orders versions.

A version is ``digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]``. It is read as a list of tokens
(first number, further numbers, letter, suffix, suffix number, commit hash, revision, end) and two
versions are compared token by token:

* tokens of the same kind compare by value: numbers as integers, except a further number where either
  side starts with ``0``, compared as text (``1.05`` < ``1.1``); suffixes in the order
  ``_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p``; hashes as text;
* at the first position where the kinds differ, a pre-release suffix (``_alpha``..``_rc``) is lower
  than anything, and otherwise the side whose token comes later in the list above is lower (so
  ``1.0`` < ``1.0.1`` < ... and ``1.0`` < ``1.0-r1`` < ``1.0a``).

The order is computed once per string as a tuple key; a string apk itself would refuse raises
InvalidVersion.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rampart.versions.base import InvalidVersion, KeyedScheme

MAX_LENGTH = 256
INITIAL, DIGIT, LETTER, SUFFIX, SUFFIX_NO, HASH, REVISION, END = range(8)
_SUFFIXES = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_NONE = 4
_PRE_RELEASE = -100
_TOKEN = re.compile(r"\.(\d+)|([a-z])|_([a-z]*)|(\d+)|~([0-9a-f]+)|-r(\d+)")
_INITIAL = re.compile(r"\d+")

Token = tuple[int, tuple[int | str, ...]]
ApkKey = tuple[Token, ...]


def _digit_value(text: str) -> tuple[int | str, ...]:
    """Further numbers: text order when starting with 0 (always below 1-9), else numeric."""
    return (0, text) if text.startswith("0") else (1, int(text))


def _kind(match: re.Match[str], previous: int) -> int:
    """The token kind of a match, or -1 when apk would refuse it after a token of kind ``previous``."""
    dot, letter, suffix, number, commit, revision = match.groups()
    if dot is not None or letter is not None:
        allowed = previous <= DIGIT
        return (DIGIT if dot is not None else LETTER) if allowed else -1
    if suffix is not None:
        return SUFFIX if previous <= SUFFIX_NO and suffix in _SUFFIXES else -1
    if number is not None:
        return SUFFIX_NO if previous == SUFFIX else -1
    if commit is not None:
        return HASH if previous < HASH else -1
    return REVISION if revision is not None and previous < REVISION else -1


def _token(kind: int, match: re.Match[str]) -> Token:
    text = next(group for group in match.groups() if group is not None)
    if kind == DIGIT:
        return (-DIGIT, _digit_value(text))
    if kind == LETTER:
        return (-LETTER, (ord(text),))
    if kind == SUFFIX:
        rank = _SUFFIXES[text]
        return (_PRE_RELEASE if rank < _NONE else -SUFFIX, (rank,))
    if kind == HASH:
        return (-HASH, (text,))
    return (-kind, (int(text),))


@lru_cache(maxsize=100_000)
def apk_key(text: str) -> ApkKey:
    """The sort key of an apk version; raises InvalidVersion for what apk would refuse."""
    first = _INITIAL.match(text)
    if len(text) > MAX_LENGTH or first is None:
        raise InvalidVersion("apk", text)
    tokens: list[Token] = [(-INITIAL, (int(first.group()),))]
    position, previous = first.end(), INITIAL
    while position < len(text):
        match = _TOKEN.match(text, position)
        kind = _kind(match, previous) if match is not None else -1
        if match is None or kind < 0:
            raise InvalidVersion("apk", text)
        tokens.append(_token(kind, match))
        position, previous = match.end(), kind
    tokens.append((-END, ()))
    return tuple(tokens)


APK = KeyedScheme("apk", apk_key)
"""Alpine package versions: ``1.2.3_rc1-r0``."""
