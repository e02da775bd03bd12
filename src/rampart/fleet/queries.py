"""Read-only fleet views: the findings list with its filters, summaries, a host's packages, per-host counts.

``host_ids`` (when given) limits every view to the hosts the caller may see; authorization itself
is decided elsewhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Select, Text, case, false, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from rampart.model import Severity
from rampart.store.models import FindingRow, Host, HostPackage, PackageRow

Status = Literal["open", "fixed", "all"]


@dataclass(frozen=True)
class FindingFilter:
    """What the findings list keeps; every field left at its default keeps everything."""

    severities: frozenset[Severity] = frozenset()
    host: str | None = None
    tag: tuple[str, str] | None = None
    package: str | None = None
    advisory: str | None = None
    fixable: bool | None = None
    status: Status = "open"
    host_ids: Collection[str] | None = None


@dataclass(frozen=True)
class FindingView:
    """One row of the findings list (the API's item shape)."""

    host_id: str
    hostname: str
    ecosystem: str
    package: str
    version: str
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: Severity
    fixed_versions: tuple[str, ...]
    summary: str
    status: str
    first_seen_at: datetime
    last_seen_at: datetime
    fixed_at: datetime | None


@dataclass(frozen=True)
class HostSummary:
    """Open findings of one host by severity name, and how many of them have a fix."""

    host_id: str
    hostname: str
    open: dict[str, int] = field(default_factory=dict)
    fixable: int = 0


@dataclass(frozen=True)
class FleetSummary:
    """Hosts visible, open findings by severity name, and how many of them have a fix."""

    hosts: int
    open: dict[str, int]
    fixable: int


@dataclass(frozen=True)
class HostPackageView:
    """One installed package of a host."""

    ecosystem: str
    name: str
    version: str
    source_name: str | None


class HostCounts(NamedTuple):
    """What the hosts list shows per host."""

    packages: int = 0
    open_findings: int = 0


def fixable(findings: Any = FindingRow) -> ColumnElement[bool]:
    """A finding table's rows that name a fixed version."""
    return type_coerce(findings.fixed_versions, Text) != "[]"


_FIXABLE = fixable()


def list_findings(
    session: Session, query: FindingFilter, limit: int = 100, offset: int = 0
) -> tuple[int, list[FindingView]]:
    """The total number of matching findings and one page of them, worst first."""
    base = _filtered(session, select(FindingRow, Host.hostname, PackageRow), query)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    order = (
        FindingRow.severity.desc(),
        Host.hostname,
        PackageRow.name,
        PackageRow.version,
        FindingRow.vulnerability_id,
        FindingRow.host_id,
    )
    rows = session.execute(base.order_by(*order).limit(limit).offset(offset))
    return total, [_view(f, hostname, p) for f, hostname, p in rows]


def _filtered(session: Session, statement: Any, query: FindingFilter) -> Any:
    statement = statement.join(Host, Host.id == FindingRow.host_id).join(
        PackageRow, PackageRow.id == FindingRow.package_id
    )
    for condition in _conditions(session, query):
        statement = statement.where(condition)
    return statement


def _conditions(session: Session, query: FindingFilter) -> list[Any]:
    conditions: list[Any] = []
    if query.status != "all":
        conditions.append(FindingRow.status == query.status)
    if query.severities:
        conditions.append(FindingRow.severity.in_(sorted(int(s) for s in query.severities)))
    if query.host is not None:
        conditions.append(or_(Host.id == query.host, Host.hostname == query.host))
    if query.package is not None:
        conditions.append(PackageRow.name == query.package)
    if query.advisory is not None:
        conditions.append(advisory_named(query.advisory))
    if query.fixable is not None:
        conditions.append(_FIXABLE if query.fixable else ~_FIXABLE)
    hosts = visible_hosts(session, query.tag, query.host_ids)
    if hosts is not None:
        conditions.append(FindingRow.host_id.in_(sorted(hosts)) if hosts else false())
    return conditions


def advisory_named(name: str, findings: Any = FindingRow) -> Any:
    """A finding table's rows whose vulnerability id or one of its aliases is ``name``."""
    quoted = '"' + name.replace('"', "") + '"'
    escaped = quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        findings.vulnerability_id == name,
        type_coerce(findings.aliases, Text).like(f"%{escaped}%", escape="\\"),
    )


def visible_hosts(
    session: Session, tag: tuple[str, str] | None, host_ids: Collection[str] | None
) -> set[str] | None:
    """The host ids a view is limited to (None: no limit)."""
    if tag is None:
        return None if host_ids is None else set(host_ids)
    tagged = {h.id for h in session.scalars(select(Host)) if h.tags.get(tag[0]) == tag[1]}
    return tagged if host_ids is None else tagged & set(host_ids)


def _view(finding: FindingRow, hostname: str, package: PackageRow) -> FindingView:
    return FindingView(
        host_id=finding.host_id,
        hostname=hostname,
        ecosystem=package.ecosystem,
        package=package.name,
        version=package.version,
        vulnerability_id=finding.vulnerability_id,
        aliases=tuple(finding.aliases),
        severity=Severity(finding.severity),
        fixed_versions=tuple(finding.fixed_versions),
        summary=finding.summary,
        status=finding.status,
        first_seen_at=finding.first_seen_at,
        last_seen_at=finding.last_seen_at,
        fixed_at=finding.fixed_at,
    )


def _open_counts(session: Session, hosts: set[str] | None) -> Select[Any]:
    statement = select(FindingRow.host_id, FindingRow.severity, func.count(), func.sum(fixable_count()))
    statement = statement.where(FindingRow.status == "open").group_by(FindingRow.host_id, FindingRow.severity)
    return statement if hosts is None else statement.where(FindingRow.host_id.in_(sorted(hosts)))


def fixable_count(findings: Any = FindingRow) -> Any:
    """1 for a fixable finding row, else 0 (to sum)."""
    return case((fixable(findings), 1), else_=0)


def host_summaries(
    session: Session, host_ids: Collection[str] | None = None, tag: tuple[str, str] | None = None
) -> list[HostSummary]:
    """Per visible host: open findings by severity and how many are fixable, by hostname."""
    hosts = visible_hosts(session, tag, host_ids)
    counts: dict[str, Counter[str]] = {}
    fixable: Counter[str] = Counter()
    for host_id, severity, count, fixes in session.execute(_open_counts(session, hosts)):
        counts.setdefault(host_id, Counter())[Severity(severity).name] += count
        fixable[host_id] += int(fixes or 0)
    listed = select(Host).order_by(Host.hostname, Host.id)
    return [
        HostSummary(h.id, h.hostname, by_severity(counts.get(h.id, Counter())), fixable[h.id])
        for h in session.scalars(listed)
        if hosts is None or h.id in hosts
    ]


def fleet_summary(
    session: Session, host_ids: Collection[str] | None = None, tag: tuple[str, str] | None = None
) -> FleetSummary:
    """Visible hosts (not revoked), open findings by severity, fixable open findings."""
    rows = host_summaries(session, host_ids, tag)
    total: Counter[str] = Counter()
    for row in rows:
        total.update(row.open)
    revoked = set(session.scalars(select(Host.id).where(Host.revoked_at.is_not(None))))
    return FleetSummary(
        sum(1 for r in rows if r.host_id not in revoked), by_severity(total), sum(r.fixable for r in rows)
    )


def by_severity(counts: Counter[str]) -> dict[str, int]:
    return {s.name: counts.get(s.name, 0) for s in sorted(Severity, reverse=True)}


def host_package_rows(session: Session, host_id: str) -> list[HostPackageView]:
    """A host's installed packages by name and version."""
    statement = (
        select(PackageRow)
        .join(HostPackage, HostPackage.package_id == PackageRow.id)
        .where(HostPackage.host_id == host_id)
        .order_by(PackageRow.name, PackageRow.version, PackageRow.ecosystem)
    )
    return [
        HostPackageView(p.ecosystem, p.name, p.version, p.source_name or None)
        for p in session.scalars(statement)
    ]


def host_counts(session: Session, host_ids: Collection[str] | None = None) -> dict[str, HostCounts]:
    """Installed packages and open findings per host (hosts with neither are absent)."""
    packages = select(HostPackage.host_id, func.count()).group_by(HostPackage.host_id)
    findings = (
        select(FindingRow.host_id, func.count())
        .where(FindingRow.status == "open")
        .group_by(FindingRow.host_id)
    )
    if host_ids is not None:
        packages = packages.where(HostPackage.host_id.in_(sorted(host_ids)))
        findings = findings.where(FindingRow.host_id.in_(sorted(host_ids)))
    package_counts: dict[str, int] = {h: int(n) for h, n in session.execute(packages)}
    finding_counts: dict[str, int] = {h: int(n) for h, n in session.execute(findings)}
    return {
        h: HostCounts(package_counts.get(h, 0), finding_counts.get(h, 0))
        for h in package_counts.keys() | finding_counts.keys()
    }
