"""RPM version order: ``[epoch:]version[-release]`` compared as ``rpm`` compares EVRs.

Epochs compare as integers (absent is 0); then the versions, then the releases (absent is empty),
each with rpm's ``rpmvercmp``: the string is cut into runs of ASCII letters, runs of ASCII digits,
``~`` and ``^``; everything else only separates runs (``1.0`` equals ``1_0``). Runs are compared in
turn, where ``~`` sorts before the end of the string, which sorts before ``^``, which sorts before
letters, which sort before numbers; numbers compare as integers, letters as ASCII text.

The order is computed once per string as a tuple key; a string with no version, an empty release, a
non-numeric epoch or control characters raises InvalidVersion.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rampart.versions.base import InvalidVersion, KeyedScheme

MAX_LENGTH = 512
TILDE, END, CARET, ALPHA, NUMBER = range(5)
_RUN = re.compile(r"[A-Za-z]+|[0-9]+|~|\^")
_EPOCH = re.compile(r"^(\d+):")
_BAD = re.compile(r"[\x00-\x20\x7f]")

Run = tuple[int, int | str] | tuple[int]
Runs = tuple[Run, ...]
RpmKey = tuple[int, Runs, Runs]


def _run(text: str) -> Run:
    if text == "~":
        return (TILDE,)
    if text == "^":
        return (CARET,)
    return (NUMBER, int(text)) if text[0].isdigit() else (ALPHA, text)


def vercmp_key(part: str) -> Runs:
    """The key of one version or release string under ``rpmvercmp``."""
    return (*(_run(run) for run in _RUN.findall(part)), (END,))


@lru_cache(maxsize=100_000)
def rpm_key(text: str) -> RpmKey:
    """The sort key of an EVR; raises InvalidVersion for an unusable string."""
    if not text or len(text) > MAX_LENGTH or _BAD.search(text):
        raise InvalidVersion("rpm", text)
    epoch_match = _EPOCH.match(text)
    epoch = int(epoch_match.group(1)) if epoch_match else 0
    rest = text[epoch_match.end() :] if epoch_match else text
    version, dash, release = rest.rpartition("-") if "-" in rest else (rest, "", "")
    if not version or ":" in version or (dash and not release):
        raise InvalidVersion("rpm", text)
    return (epoch, vercmp_key(version), vercmp_key(release))


RPM = KeyedScheme("rpm", rpm_key)
"""RPM package versions (Red Hat, AlmaLinux, Rocky Linux, Fedora, Amazon Linux...): ``1:2.3-4.el9``."""
