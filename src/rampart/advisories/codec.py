"""The compact storage form of an `Advisory`: one JSON array per record, positional fields.

Positional arrays keep the database small and make decoding a handful of tuple builds, which is
what lets a host scan's ~2,000 lookups finish in a small fraction of a second.
Layout: ``[id, modified, aliases, related, summary, withdrawn, severity, rating, affected]`` with
severity ``[[type, score], ...]`` and affected
``[[ecosystem, name, [[range_type, [[kind, version], ...]], ...], versions, severity, status], ...]``,
where versions is one newline-joined string (a list only if some version contains a newline).
"""

from __future__ import annotations

import json
from typing import Any

from rampart.model import Advisory, Affected, Event, Range, SeverityScore


def encode(advisory: Advisory) -> str:
    """The stored JSON text of one advisory."""
    row = [
        advisory.id,
        advisory.modified,
        advisory.aliases,
        advisory.related,
        advisory.summary,
        advisory.withdrawn,
        _scores(advisory.severity),
        advisory.rating,
        [_affected(a) for a in advisory.affected],
    ]
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def _scores(scores: tuple[SeverityScore, ...]) -> list[list[str]]:
    return [[s.type, s.score] for s in scores]


def _affected(entry: Affected) -> list[Any]:
    ranges = [[r.type, [[e.kind, e.version] for e in r.events]] for r in entry.ranges]
    return [
        entry.ecosystem,
        entry.name,
        ranges,
        _versions(entry.versions),
        _scores(entry.severity),
        entry.status,
    ]


def _versions(versions: tuple[str, ...]) -> str | tuple[str, ...]:
    """One newline-joined string (much faster to load than a long JSON list) unless a version is empty or has one."""
    if any(not v or "\n" in v for v in versions):
        return versions
    return "\n".join(versions)


def decode(text: str) -> Advisory:
    """The advisory that `encode` stored."""
    rid, modified, aliases, related, summary, withdrawn, severity, rating, affected = json.loads(text)
    return Advisory(
        id=rid,
        modified=modified,
        aliases=tuple(aliases),
        related=tuple(related),
        summary=summary,
        withdrawn=withdrawn,
        severity=tuple(SeverityScore(t, s) for t, s in severity),
        rating=rating,
        affected=tuple(_decode_affected(a) for a in affected),
    )


def _decode_affected(row: list[Any]) -> Affected:
    ecosystem, name, ranges, versions, severity, status = row
    return Affected(
        ecosystem=ecosystem,
        name=name,
        ranges=tuple(Range(t, tuple(Event(k, v) for k, v in events)) for t, events in ranges),
        versions=tuple(versions.split("\n")) if versions and isinstance(versions, str) else tuple(versions),
        severity=tuple(SeverityScore(t, s) for t, s in severity),
        status=status,
    )
