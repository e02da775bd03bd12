"""Turning one package's advisory hits into findings: one per (package, vulnerability).

The vulnerability is each CVE an advisory names (so an advisory naming five CVEs
gives five findings). Advisories naming no CVE are grouped with every advisory they
share an id or non-CVE alias with (the alias closure, e.g. PYSEC-x aliasing GHSA-y);
such an advisory takes the CVEs of its group, or, when the group names none, the
group's smallest advisory id. Hits keyed alike merge: advisory ids, fixed versions
(sorted by the scheme's order), evidence, and the highest severity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rampart.match.severity import Rated
from rampart.model import Advisory, Finding, MatchEvidence, Package
from rampart.versions.base import VersionScheme, try_parse


@dataclass(frozen=True)
class Hit:
    """One advisory that affects one looked-up package."""

    advisory: Advisory
    evidence: MatchEvidence
    fixed: tuple[str, ...]
    rated: Rated


def _identifiers(advisory: Advisory) -> list[str]:
    return [advisory.id, *(a for a in advisory.aliases if not a.startswith("CVE-"))]


def _components(hits: list[Hit]) -> dict[str, str]:
    """Advisory id -> representative of its alias-closure group (union-find over identifiers)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for hit in hits:
        first, *rest = _identifiers(hit.advisory)
        for other in rest:
            parent[root(other)] = root(first)
    return {hit.advisory.id: root(hit.advisory.id) for hit in hits}


def keyed_hits(hits: list[Hit]) -> dict[str, list[Hit]]:
    """Vulnerability id -> the hits that report it."""
    group_of = _components(hits)
    members: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        members[group_of[hit.advisory.id]].append(hit)
    cve_ids = {hit.advisory.id: hit.advisory.cve_ids for hit in hits}
    keyed: dict[str, list[Hit]] = defaultdict(list)
    for group in members.values():
        cves = list(dict.fromkeys(c for h in group for c in cve_ids[h.advisory.id]))
        fallback = cves or [min(h.advisory.id for h in group)]
        for hit in group:
            for key in cve_ids[hit.advisory.id] or fallback:
                keyed[key].append(hit)
    return keyed


def sort_versions(versions: Iterable[str], scheme: VersionScheme | None) -> tuple[str, ...]:
    """Unique versions in the scheme's order; unparseable ones last, by text."""
    unique = sorted(set(versions))
    keyed = [(try_parse(scheme, v) if scheme else None, v) for v in unique]
    parsed = [(k, v) for k, v in keyed if k is not None]
    parsed.sort(key=lambda pair: pair[0])
    return (*(v for _, v in parsed), *(v for k, v in keyed if k is None))


def _aliases(key: str, hits: list[Hit]) -> tuple[str, ...]:
    names = {n for h in hits for n in (h.advisory.id, *h.advisory.aliases) if not n.startswith("CVE-")}
    return tuple(sorted(names - {key}))


def build_finding(key: str, hits: list[Hit], package: Package, scheme: VersionScheme | None) -> Finding:
    """One merged finding for ``package`` from every hit keyed ``key``."""
    hits = sorted(hits, key=lambda h: h.advisory.id)
    best = max((h.rated for h in hits), key=Rated.rank)
    return Finding(
        vulnerability_id=key,
        package=package,
        advisory_ids=tuple(dict.fromkeys(h.advisory.id for h in hits)),
        severity=best.severity,
        fixed_versions=sort_versions((f for h in hits for f in h.fixed), scheme),
        summary=next((h.advisory.summary for h in hits if h.advisory.summary), ""),
        aliases=_aliases(key, hits),
        cvss_score=best.score,
        cvss_vector=best.vector,
        evidence=tuple(h.evidence for h in hits),
    )
