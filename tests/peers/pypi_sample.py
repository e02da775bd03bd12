"""A deterministic sample of real PyPI (name, version) pairs drawn from the PyPA advisory records.

Versions come from the records themselves: ``affected[].versions`` lists (releases enumerated from
PyPI) and ``ECOSYSTEM`` range events (introduced/fixed/last_affected), plus each fix's predecessor
and each ``last_affected``'s successor among the versions the records know, so that the sample holds
versions on both sides of every kind of bound. Only versions whose PEP 440 normal form is the text
itself are kept (so both tools see the very same string).

Kept out of the sample, on purpose and by rule rather than by result: packages with a record whose
``ECOSYSTEM`` bound is not a PEP 440 version (``2.6.0-NA``, ``2019-09-12``...). The OSV schema gives
no meaning to such a range, so any answer there would be a convention, not a fact to compare.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from osv_server import OsvIndex
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PER_PACKAGE = 4


@dataclass
class PackageFacts:
    display_name: str
    known: set[str] = field(default_factory=set)
    fixed: set[str] = field(default_factory=set)
    last_affected: set[str] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)
    introduced: set[str] = field(default_factory=set)
    withdrawn: bool = False
    versions_only: bool = False


def canonical_version(text: str) -> str | None:
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    return text if str(version) == text and version.local is None else None


def _stable(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def collect(index: OsvIndex) -> dict[str, PackageFacts]:
    facts: dict[str, PackageFacts] = {}
    for vuln_id in sorted(index.records):
        record = index.records[vuln_id]
        for entry in record.get("affected", []):
            pkg = entry["package"]
            if pkg.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(pkg["name"])
            item = facts.setdefault(name, PackageFacts(display_name=pkg["name"]))
            item.withdrawn |= "withdrawn" in record
            _add_entry(item, entry)
    return facts


def _add_entry(item: PackageFacts, entry: dict) -> None:
    buckets = {"fixed": item.fixed, "last_affected": item.last_affected, "introduced": item.introduced}
    ecosystem_ranges = [r for r in entry.get("ranges", []) if r.get("type") == "ECOSYSTEM"]
    if entry.get("versions") and not ecosystem_ranges:
        item.versions_only = True
    for text in entry.get("versions", []):
        if canonical_version(text):
            item.listed.add(text)
            item.known.add(text)
    for rng in ecosystem_ranges:
        for event in rng.get("events", []):
            ((kind, text),) = event.items()
            if kind in buckets and canonical_version(text):
                buckets[kind].add(text)
                item.known.add(text)


def _neighbour(ordered: list[str], text: str, step: int) -> str | None:
    position = ordered.index(text) + step
    return ordered[position] if 0 <= position < len(ordered) else None


def pick_versions(item: PackageFacts) -> list[str]:
    """Up to PER_PACKAGE versions: newest known, around a fix, around a last_affected, listed, introduced."""
    ordered = sorted(item.known, key=Version)
    wishes: list[str | None] = [ordered[-1]]
    for fixed in sorted(item.fixed, key=_stable)[:1]:
        wishes += [_neighbour(ordered, fixed, -1), fixed]
    for last in sorted(item.last_affected, key=_stable)[:1]:
        wishes += [last, _neighbour(ordered, last, +1)]
    wishes += sorted(item.listed, key=_stable)[:2]
    wishes += sorted(item.introduced, key=_stable)[:1]
    wishes += sorted(item.known, key=_stable)
    chosen: list[str] = []
    for text in wishes:
        if text is not None and text not in chosen:
            chosen.append(text)
    return chosen[:PER_PACKAGE]


def sample(index: OsvIndex, packages: int = 170) -> list[tuple[str, str, str]]:
    """[(canonical name, display name, version)], deterministic, favouring every kind of record."""
    usable = {n: f for n, f in collect(index).items() if f.known}
    facts = {n: f for n, f in usable.items() if not index.has_unparseable_bounds("PyPI", n)}
    ranked = sorted(facts, key=_stable)
    quotas = [
        [n for n in ranked if facts[n].withdrawn][:20],
        [n for n in ranked if facts[n].last_affected][:30],
        [n for n in ranked if facts[n].versions_only][:20],
        ranked,
    ]
    names: list[str] = []
    for group in quotas:
        for name in group:
            if len(names) >= packages:
                break
            if name not in names:
                names.append(name)
    return [(n, facts[n].display_name, v) for n in sorted(names) for v in pick_versions(facts[n])]
