"""Match-test helpers: an in-memory AdvisorySource and a tiny OSV JSON -> model loader for the real zips.

The advisory DB is someone else's job; this loader is the least needed to feed the matcher.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from rampart.match.names import normalize_name
from rampart.model import Advisory, Affected, Event, Range, SeverityScore


class MemorySource:
    """AdvisorySource over a dict keyed by (ecosystem, normalised name); counts its lookups."""

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        self.index: dict[tuple[str, str], list[Advisory]] = defaultdict(list)
        self.lookups = 0
        for advisory in advisories:
            keys = {(a.ecosystem, normalize_name(a.ecosystem, a.name)) for a in advisory.affected}
            for key in keys:
                self.index[key].append(advisory)

    def advisories_for(self, ecosystem: str, name: str) -> Sequence[Advisory]:
        self.lookups += 1
        return self.index.get((ecosystem, name), [])


def _scores(items: list[dict[str, str]]) -> tuple[SeverityScore, ...]:
    return tuple(SeverityScore(s["type"], s["score"]) for s in items)


def _affected(item: dict[str, Any]) -> Affected:
    ranges = tuple(
        Range(r["type"], tuple(Event(k, v) for e in r["events"] for k, v in e.items()))
        for r in item.get("ranges", [])
    )
    return Affected(
        ecosystem=item["package"]["ecosystem"],
        name=item["package"]["name"],
        ranges=ranges,
        versions=tuple(item.get("versions", [])),
        severity=_scores(item.get("severity", [])),
        status=item.get("ecosystem_specific", {}).get("status"),
    )


def advisory_from_osv(record: dict[str, Any]) -> Advisory:
    rating = record.get("database_specific", {}).get("severity")
    return Advisory(
        id=record["id"],
        modified=record["modified"],
        aliases=tuple(record.get("aliases", [])),
        related=tuple(record.get("related", [])),
        summary=record.get("summary", ""),
        withdrawn=record.get("withdrawn"),
        severity=_scores(record.get("severity", [])),
        rating=rating if isinstance(rating, str) else None,
        affected=tuple(_affected(a) for a in record.get("affected", [])),
    )


def load_zip(path: Path, ids: set[str] | None = None) -> list[Advisory]:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if ids is None or n.removesuffix(".json") in ids]
        return [advisory_from_osv(json.loads(archive.read(n))) for n in names]


@pytest.fixture
def make_source() -> Callable[..., MemorySource]:
    """``make_source(adv1, adv2, ...)`` -> an in-memory AdvisorySource."""
    return lambda *advisories: MemorySource(advisories)


@pytest.fixture(scope="session")
def osv_loader(vulndata_dir: Path) -> Callable[[str, set[str] | None], list[Advisory]]:
    """``load(ecosystem_dir, ids)``: real records straight from ``osv/<dir>/all.zip``."""
    return lambda ecosystem, ids=None: load_zip(vulndata_dir / "osv" / ecosystem / "all.zip", ids)
