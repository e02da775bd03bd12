"""Judging one advisory against one looked-up package: its matching ``affected`` entries, ranges and lists.

OSV's ``IsVulnerable``: an entry affects the version if the version is listed in
``versions`` or lies in one of its ECOSYSTEM/SEMVER ranges (GIT ranges are
ignored: they need the repository's commit graph). One affected answer is enough;
otherwise an entry that could not be judged makes the advisory Unmatchable.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rampart.match.names import LookupKey, normalize_ecosystem, normalize_name
from rampart.match.ranges import (
    EVALUATED_TYPES,
    describe,
    fixed_versions,
    range_verdict,
    unparseable_bounds,
)
from rampart.model import Advisory, Affected, Range
from rampart.versions.base import UnsupportedEcosystem, VersionKey, VersionScheme, try_parse
from rampart.versions.table import scheme_for_range

LISTED = "listed in versions"


@dataclass(frozen=True)
class Judgement:
    """affected: True / False / None (cannot tell, see reason); matched: what hit; fixed: their fixes."""

    affected: bool | None
    matched: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    reason: str = ""


NOT_AFFECTED = Judgement(False)


_FIRST_NUMBER = re.compile(r"\d+")
_EPOCH_MARKS = ("!", ":")


def _bucket(version: str) -> int | None:
    """The first number in a version: equal versions share it unless an epoch is written (then None)."""
    found = _FIRST_NUMBER.search(version)
    if found is None or any(mark in version for mark in _EPOCH_MARKS):
        return None
    return int(found.group())


@lru_cache(maxsize=50_000)
def _buckets(versions: tuple[str, ...]) -> dict[int | None, tuple[str, ...]]:
    grouped: dict[int | None, list[str]] = defaultdict(list)
    for version in versions:
        grouped[_bucket(version)].append(version)
    return {bucket: tuple(group) for bucket, group in grouped.items()}


def is_listed(entry: Affected, scheme: VersionScheme, version: str, key: VersionKey | None) -> bool:
    """Listed by exact string, or by version equality (``7.0`` lists ``7.0.0`` for PEP 440).

    Long lists (PyPI records enumerate every release) are bucketed by first number so only
    plausible equals get parsed.
    """
    if version in entry.versions:
        return True
    if key is None or not entry.versions:
        return False
    own = _bucket(version)
    if own is None:
        candidates = entry.versions
    else:
        buckets = _buckets(entry.versions)
        candidates = (*buckets.get(own, ()), *buckets.get(None, ()))
    return any(try_parse(scheme, c) == key for c in candidates)


def _why(rng: Range, scheme: VersionScheme, version: str, key: VersionKey | None) -> str:
    if key is None:
        return f"version {version!r} does not parse as {scheme.name}; range {describe(rng)}"
    bad = ", ".join(repr(b) for b in unparseable_bounds(rng, scheme))
    return f"range {describe(rng)} has bounds that do not parse as {scheme.name}: {bad}"


def _judge_range(rng: Range, ecosystem: str, version: str) -> Judgement:
    scheme = scheme_for_range(ecosystem, rng.type)
    key = try_parse(scheme, version)
    verdict = range_verdict(rng, scheme, key)
    if verdict is None:
        return Judgement(None, reason=_why(rng, scheme, version, key))
    return Judgement(True, (describe(rng),), fixed_versions(rng)) if verdict else NOT_AFFECTED


def _listed(entry: Affected, ecosystem: str, version: str) -> bool:
    scheme = scheme_for_range(ecosystem, "ECOSYSTEM")
    return is_listed(entry, scheme, version, try_parse(scheme, version))


def combine(judgements: list[Judgement]) -> Judgement:
    """Any affected -> affected (matched/fixed from every hit); else any unknown -> unknown; else not."""
    hits = [j for j in judgements if j.affected]
    if hits:
        fixed = tuple(dict.fromkeys(f for j in hits for f in j.fixed))
        return Judgement(True, tuple(m for j in hits for m in j.matched), fixed)
    unknown = [j.reason for j in judgements if j.affected is None]
    return Judgement(None, reason="; ".join(unknown)) if unknown else NOT_AFFECTED


def judge_entry(entry: Affected, lookup: LookupKey) -> Judgement:
    """One ``affected`` entry against the looked-up version."""
    try:
        found = [
            _judge_range(r, lookup.ecosystem, lookup.version)
            for r in entry.ranges
            if r.type in EVALUATED_TYPES
        ]
        if entry.versions and _listed(entry, lookup.ecosystem, lookup.version):
            found.append(Judgement(True, (LISTED,)))
    except UnsupportedEcosystem as error:
        return Judgement(None, reason=error.message)
    return combine(found)


def _entry_applies(entry: Affected, lookup: LookupKey) -> bool:
    same_ecosystem = normalize_ecosystem(entry.ecosystem) == normalize_ecosystem(lookup.ecosystem)
    return same_ecosystem and normalize_name(entry.ecosystem, entry.name) == lookup.name


def judge_advisory(advisory: Advisory, lookup: LookupKey) -> tuple[Judgement, tuple[Affected, ...]]:
    """The advisory's verdict over its entries for this package, and the entries that matched."""
    entries = [e for e in advisory.affected if _entry_applies(e, lookup)]
    judged = [(e, judge_entry(e, lookup)) for e in entries]
    return combine([j for _, j in judged]), tuple(e for e, j in judged if j.affected)
