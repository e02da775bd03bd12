"""Severity of an advisory for one package: CVSS base score, else the publisher's rating, else UNKNOWN.

Order of preference: the package's own ``affected[].severity`` over the record's
top-level ``severity``; within each, CVSS v4 over v3.x (v4 is the current standard,
and a publisher who scored both wrote v4 last). A vector the ``cvss`` library rejects
is skipped. CVSS v2 is not used: its bands do not map onto the v3/v4 ratings. With no
usable vector the record's ``rating`` (e.g. database_specific.severity ``MODERATE``)
counts, then any non-CVSS severity entry (e.g. type ``Ubuntu``: ``medium``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cvss import CVSS3, CVSS4, CVSSError

from rampart.model import Advisory, Affected, Severity, SeverityScore

_CVSS_PREFERENCE = ("CVSS_V4", "CVSS_V3")


@dataclass(frozen=True)
class Rated:
    """A severity with the CVSS score and vector it came from (None when it came from a rating)."""

    severity: Severity
    score: float | None = None
    vector: str | None = None

    def rank(self) -> tuple[Severity, float]:
        return (self.severity, self.score if self.score is not None else -1.0)


UNRATED = Rated(Severity.UNKNOWN)


@lru_cache(maxsize=20_000)
def cvss_rated(kind: str, vector: str) -> Rated | None:
    """The base score of a CVSS v3/v4 vector, or None when the vector is malformed."""
    try:
        score = float(CVSS4(vector).base_score if kind == "CVSS_V4" else CVSS3(vector).base_score)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return Rated(Severity.from_score(score), score, vector)


def _from_vectors(scores: tuple[SeverityScore, ...]) -> Rated | None:
    for kind in _CVSS_PREFERENCE:
        for entry in scores:
            rated = cvss_rated(kind, entry.score) if entry.type == kind else None
            if rated is not None:
                return rated
    return None


def _from_ratings(ratings: list[str]) -> Rated:
    for text in ratings:
        severity = Severity.parse(text)
        if severity is not Severity.UNKNOWN:
            return Rated(severity)
    return UNRATED


def rate(advisory: Advisory, entries: tuple[Affected, ...]) -> Rated:
    """The severity of ``advisory`` for a package matched through ``entries``."""
    for scores in (*(e.severity for e in entries), advisory.severity):
        rated = _from_vectors(scores)
        if rated is not None:
            return rated
    others = [s.score for e in entries for s in e.severity] + [s.score for s in advisory.severity]
    ratings = [advisory.rating] if advisory.rating else []
    return _from_ratings(ratings + [s for s in others if not s.startswith("CVSS:")])
