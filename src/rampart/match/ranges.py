"""OSV range evaluation (the schema's ``IncludedInRanges``/``BeforeLimits``), with unparseable versions.

A verdict is True (affected), False (not affected) or None (cannot be judged soundly).
The walk follows the OSV algorithm: sorted events, ``introduced`` switches on,
``fixed`` (v >= fixed) and ``last_affected`` (v > last_affected) switch off; the state
left by the highest event that fires is the answer. When an event version (or the
installed version) does not parse, whether that event fires and where it sorts are
unknown; the range is still judged when no such event could change the answer, i.e.
when every unknown event pushes the same way as the answer from the known ones.
Otherwise the verdict is None, never a guess.
"""

from __future__ import annotations

from typing import NamedTuple

from rampart.model import Event, Range
from rampart.versions.base import VersionKey, VersionScheme, try_parse

EVALUATED_TYPES: frozenset[str] = frozenset({"ECOSYSTEM", "SEMVER"})
_KIND_RANK = {"introduced": 0, "fixed": 1, "last_affected": 2}
_SYMBOL = {"introduced": ">=", "fixed": "<", "last_affected": "<=", "limit": "limit <"}


class _Step(NamedTuple):
    """One walk event: does it fire for v (None = unknown), which state it sets, and where it sorts."""

    fires: bool | None
    sets: bool
    order: tuple[int, VersionKey | None, int]


def _fires(kind: str, version: VersionKey | None, installed: VersionKey | None) -> bool | None:
    if version is None or installed is None:
        return None
    if kind == "last_affected":
        return version < installed
    return not installed < version


def _step(event: Event, scheme: VersionScheme, installed: VersionKey | None) -> _Step:
    rank = _KIND_RANK[event.kind]
    if event.kind == "introduced" and event.version == "0":
        return _Step(True, True, (0, None, rank))
    version = try_parse(scheme, event.version)
    return _Step(_fires(event.kind, version, installed), event.kind == "introduced", (1, version, rank))


def _walk(steps: list[_Step]) -> bool | None:
    fired = [s for s in steps if s.fires]
    state = max(fired, key=lambda s: s.order).sets if fired else False
    if any(s.fires is None and s.sets != state for s in steps):
        return None
    return state


def _before_limits(limits: list[str], scheme: VersionScheme, installed: VersionKey | None) -> bool | None:
    if not limits or any("*" in text for text in limits):
        return True
    bounds = [try_parse(scheme, text) for text in limits]
    if installed is not None and any(b is not None and installed < b for b in bounds):
        return True
    return None if installed is None or None in bounds else False


def range_verdict(rng: Range, scheme: VersionScheme, installed: VersionKey | None) -> bool | None:
    """Whether the installed version (None when it did not parse) lies in an ECOSYSTEM/SEMVER range."""
    limits = [e.version for e in rng.events if e.kind == "limit"]
    steps = [_step(e, scheme, installed) for e in rng.events if e.kind in _KIND_RANK]
    inside = _walk(steps)
    if inside is False:
        return False
    before = _before_limits(limits, scheme, installed)
    if before is False:
        return False
    return None if before is None or inside is None else True


def unparseable_bounds(rng: Range, scheme: VersionScheme) -> tuple[str, ...]:
    """The event versions of a range that the scheme cannot parse (``0`` and ``*`` limits excepted)."""
    return tuple(
        e.version
        for e in rng.events
        if not (e.kind == "introduced" and e.version == "0")
        and not (e.kind == "limit" and "*" in e.version)
        and try_parse(scheme, e.version) is None
    )


def describe(rng: Range) -> str:
    """A readable range, e.g. ``ECOSYSTEM >=0, <2:1.20.11-1+deb11u6``."""
    parts = (f"{_SYMBOL.get(e.kind, e.kind + ' ')}{e.version}" for e in rng.events)
    return f"{rng.type} {', '.join(parts)}"


def fixed_versions(rng: Range) -> tuple[str, ...]:
    """The ``fixed`` event versions of a range."""
    return tuple(e.version for e in rng.events if e.kind == "fixed")
