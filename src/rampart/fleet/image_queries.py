"""Read-only views of registry images: the image findings list with its filters, per-image counts, packages.

``registries`` (when given) limits every view to the images of the registries the caller may read;
authorization itself is decided elsewhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from rampart.fleet.queries import Status, advisory_named, by_severity, fixable, fixable_count
from rampart.model import Severity
from rampart.store.models import ImageFindingRow, ImagePackage, ImageRow, PackageRow, RepositoryRow


@dataclass(frozen=True)
class ImageFindingFilter:
    """What the image findings list keeps; every field left at its default keeps everything."""

    severities: frozenset[Severity] = frozenset()
    image: str | None = None
    registry: str | None = None
    package: str | None = None
    advisory: str | None = None
    fixable: bool | None = None
    status: Status = "open"
    registries: Collection[str] | None = None


@dataclass(frozen=True)
class ImageFindingView:
    """One row of the image findings list (the API's item shape)."""

    image_id: str
    reference: str
    ecosystem: str
    package: str
    version: str
    layer: str
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
class ImageCounts:
    """Per image: distinct packages, open findings by severity name, and how many of those have a fix."""

    packages: int = 0
    open: dict[str, int] = field(default_factory=lambda: by_severity(Counter()))
    fixable: int = 0


@dataclass(frozen=True)
class ImagePackageView:
    """One package of an image and the layer that brought it."""

    ecosystem: str
    name: str
    version: str
    source_name: str | None
    layer: str
    location: str


def list_image_findings(
    session: Session, query: ImageFindingFilter, limit: int = 100, offset: int = 0
) -> tuple[int, list[ImageFindingView]]:
    """The total number of matching image findings and one page of them, worst first."""
    base = _filtered(select(ImageFindingRow, ImageRow.reference, PackageRow, ImagePackage.layer), query)
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    order = (
        ImageFindingRow.severity.desc(),
        ImageRow.reference,
        PackageRow.name,
        PackageRow.version,
        ImageFindingRow.vulnerability_id,
        ImageFindingRow.image_id,
    )
    rows = session.execute(base.order_by(*order).limit(limit).offset(offset))
    return total, [_view(finding, reference, package, layer) for finding, reference, package, layer in rows]


def _filtered(statement: Any, query: ImageFindingFilter) -> Any:
    statement = (
        statement.join(ImageRow, ImageRow.id == ImageFindingRow.image_id)
        .join(RepositoryRow, RepositoryRow.id == ImageRow.repository_id)
        .join(PackageRow, PackageRow.id == ImageFindingRow.package_id)
        .outerjoin(
            ImagePackage,
            (ImagePackage.image_id == ImageFindingRow.image_id)
            & (ImagePackage.package_id == ImageFindingRow.package_id),
        )
    )
    for condition in _conditions(query):
        statement = statement.where(condition)
    return statement


def _conditions(query: ImageFindingFilter) -> list[Any]:
    conditions: list[Any] = []
    if query.status != "all":
        conditions.append(ImageFindingRow.status == query.status)
    if query.severities:
        conditions.append(ImageFindingRow.severity.in_(sorted(int(s) for s in query.severities)))
    if query.image is not None:
        conditions.append(or_(ImageRow.id == query.image, ImageRow.reference == query.image))
    if query.package is not None:
        conditions.append(PackageRow.name == query.package)
    if query.advisory is not None:
        conditions.append(advisory_named(query.advisory, ImageFindingRow))
    if query.fixable is not None:
        fixed = fixable(ImageFindingRow)
        conditions.append(fixed if query.fixable else ~fixed)
    return conditions + _registry_conditions(query)


def _registry_conditions(query: ImageFindingFilter) -> list[Any]:
    """The named registry, and the registries the caller may read."""
    conditions: list[Any] = []
    if query.registry is not None:
        conditions.append(RepositoryRow.registry_name == query.registry)
    if query.registries is not None:
        allowed = sorted(query.registries)
        conditions.append(RepositoryRow.registry_name.in_(allowed) if allowed else false())
    return conditions


def _view(
    finding: ImageFindingRow, reference: str, package: PackageRow, layer: str | None
) -> ImageFindingView:
    return ImageFindingView(
        image_id=finding.image_id,
        reference=reference,
        ecosystem=package.ecosystem,
        package=package.name,
        version=package.version,
        layer=layer or "",
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


def image_counts(session: Session, image_ids: Collection[str]) -> dict[str, ImageCounts]:
    """Packages, open findings by severity and fixable open findings of each of these images."""
    ids = sorted(image_ids)
    held = select(ImagePackage.image_id, func.count()).where(ImagePackage.image_id.in_(ids))
    packages = {
        image_id: int(count) for image_id, count in session.execute(held.group_by(ImagePackage.image_id))
    }
    severities: dict[str, Counter[str]] = {}
    fixes: Counter[str] = Counter()
    for image_id, severity, count, fixed in session.execute(_open_counts(ids)):
        severities.setdefault(image_id, Counter())[Severity(severity).name] += count
        fixes[image_id] += int(fixed or 0)
    return {
        i: ImageCounts(int(packages.get(i, 0)), by_severity(severities.get(i, Counter())), fixes[i])
        for i in ids
    }


def _open_counts(ids: list[str]) -> Any:
    found = ImageFindingRow
    statement = select(found.image_id, found.severity, func.count(), func.sum(fixable_count(found)))
    statement = statement.where(found.status == "open", found.image_id.in_(ids))
    return statement.group_by(found.image_id, found.severity)


def image_totals(counts: Collection[ImageCounts]) -> tuple[dict[str, int], int]:
    """Open findings by severity and fixable open findings over these images."""
    total: Counter[str] = Counter()
    for row in counts:
        total.update(row.open)
    return by_severity(total), sum(row.fixable for row in counts)


def image_package_rows(session: Session, image_id: str) -> list[ImagePackageView]:
    """An image's packages by name and version, each with its layer."""
    statement = (
        select(PackageRow, ImagePackage.layer, ImagePackage.location)
        .join(ImagePackage, ImagePackage.package_id == PackageRow.id)
        .where(ImagePackage.image_id == image_id)
        .order_by(PackageRow.name, PackageRow.version, PackageRow.ecosystem)
    )
    return [
        ImagePackageView(p.ecosystem, p.name, p.version, p.source_name or None, layer, location)
        for p, layer, location in session.execute(statement)
    ]
