"""Debian (dpkg) version order, identical to ``dpkg --compare-versions``.

python-debian's ``Version`` validates and splits a version into epoch, upstream
and revision; its own comparison re-scans both strings on every call (about
25 µs), too slow for the matcher, so the order itself is computed once per string
as a tuple key that follows dpkg's ``verrevcmp``: alternating non-digit runs
(``~`` before end-of-string before letters before other characters) and numeric
runs compared as integers.
"""

from __future__ import annotations

import re
from functools import lru_cache

from debian.debian_support import Version as DebianVersion

from rampart.versions.base import InvalidVersion, KeyedScheme

_RUNS = re.compile(r"(\D*)(\d*)")
_END: tuple[int, ...] = (0,)

Runs = tuple[tuple[int, ...] | int, ...]
DpkgKey = tuple[int, Runs, Runs]


def _weight(char: str) -> int:
    if char == "~":
        return -1
    if char.isascii() and char.isalpha():
        return ord(char)
    return ord(char) + 256


def _runs(part: str) -> Runs:
    """A version part as (non-digit weights + end marker, number) pairs, closed by an empty run."""
    out: list[tuple[int, ...] | int] = []
    for letters, digits in _RUNS.findall(part):
        if letters or digits:
            out.append((*(_weight(c) for c in letters), 0))
            out.append(int(digits or 0))
    return (*(out or [(0,), 0]), _END)


@lru_cache(maxsize=100_000)
def dpkg_key(text: str) -> DpkgKey:
    """The sort key of a dpkg version; raises InvalidVersion where dpkg itself would refuse it."""
    try:
        version = DebianVersion(text)
    except ValueError:
        raise InvalidVersion("dpkg", text) from None
    upstream = version.upstream_version or ""
    if upstream.startswith("-") or text.endswith("-"):  # empty upstream / empty revision
        raise InvalidVersion("dpkg", text)
    return (int(version.epoch or 0), _runs(upstream), _runs(version.debian_revision or ""))


DPKG = KeyedScheme("dpkg", dpkg_key)
"""Debian/Ubuntu package versions: ``[epoch:]upstream[-revision]``."""
