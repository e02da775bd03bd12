"""Judging distinct package rows with the matcher and storing the verdicts in ``package_vulns``.

`store_verdicts` writes only what changed and reports it as a `VerdictDelta`, so a re-match
touches findings for changed (package, vulnerability) pairs only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from rampart.fleet.sql import chunks
from rampart.match.engine import match_packages
from rampart.match.source import AdvisorySource
from rampart.model import Finding, Package
from rampart.store.models import PackageRow, PackageVuln

Pair = tuple[int, str]
Verdicts = dict[Pair, dict[str, Any]]
_DATA = ("severity", "fixed_versions", "aliases", "summary")


@dataclass(frozen=True)
class VerdictDelta:
    """(package id, vulnerability id) pairs that appeared, disappeared, or changed their advisory data.

    Rows written for added and changed pairs carry ``mark`` in ``package_vulns.mark``.
    """

    mark: str = ""
    added: frozenset[Pair] = field(default_factory=frozenset)
    removed: frozenset[Pair] = field(default_factory=frozenset)
    changed: frozenset[Pair] = field(default_factory=frozenset)


def as_package(row: PackageRow) -> Package:
    """The matcher's view of a stored package (no location: it does not change a verdict)."""
    return Package(
        name=row.name,
        version=row.version,
        ecosystem=row.ecosystem,
        location="",
        extractor="",
        source_name=row.source_name or None,
        source_version=row.source_version or None,
        managed_by=row.managed_by or None,
    )


def judge(rows: Sequence[PackageRow], source: AdvisorySource) -> Verdicts:
    """What the matcher says about each row, keyed by (package id, vulnerability id)."""
    ids = {as_package(row): row.id for row in rows}
    verdicts: Verdicts = {}
    for finding in match_packages(list(ids), source).findings:
        pair = (ids[finding.package], finding.vulnerability_id[:128])
        verdicts.setdefault(pair, _data(finding))
    return verdicts


def _data(finding: Finding) -> dict[str, Any]:
    return {
        "severity": int(finding.severity),
        "fixed_versions": list(finding.fixed_versions),
        "aliases": list(finding.aliases),
        "summary": finding.summary,
    }


def store_verdicts(session: Session, package_ids: Sequence[int], new: Verdicts, build: str) -> VerdictDelta:
    """Make ``package_vulns`` of these packages equal ``new`` and stamp them with ``build``."""
    old = _stored(session, package_ids)
    delta = VerdictDelta(
        mark=uuid.uuid4().hex,
        added=frozenset(new.keys() - old.keys()),
        removed=frozenset(old.keys() - new.keys()),
        changed=frozenset(p for p in new.keys() & old.keys() if new[p] != old[p]),
    )
    _delete(session, sorted(delta.removed))
    _write(
        session,
        [_row(p, new[p], delta.mark) for p in sorted(delta.added)],
        [_row(p, new[p], delta.mark) for p in sorted(delta.changed)],
    )
    for ids in chunks(sorted(package_ids)):
        session.execute(update(PackageRow).where(PackageRow.id.in_(ids)).values(judged_build=build))
    return delta


def _row(pair: Pair, data: dict[str, Any], mark: str) -> dict[str, Any]:
    return {"package_id": pair[0], "vulnerability_id": pair[1], "mark": mark, **data}


def _delete(session: Session, pairs: list[Pair]) -> None:
    """Delete verdicts by primary key, many at a time."""
    table = cast(Table, PackageVuln.__table__)
    statement = delete(table).where(
        table.c.package_id == bindparam("p"), table.c.vulnerability_id == bindparam("v")
    )
    for batch in chunks(pairs):
        session.connection().execute(statement, [{"p": p, "v": v} for p, v in batch])


def _write(session: Session, added: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    for batch in chunks(added):
        session.execute(insert(PackageVuln), list(batch))
    for batch in chunks(changed):
        session.execute(update(PackageVuln), list(batch))


def _stored(session: Session, package_ids: Sequence[int]) -> Verdicts:
    stored: Verdicts = {}
    for part in chunks(sorted(package_ids)):
        columns = (getattr(PackageVuln, k) for k in _DATA)
        query = select(PackageVuln.package_id, PackageVuln.vulnerability_id, *columns)
        for package_id, vulnerability_id, *data in session.execute(
            query.where(PackageVuln.package_id.in_(part))
        ):
            stored[(package_id, vulnerability_id)] = dict(zip(_DATA, data, strict=True))
    return stored
