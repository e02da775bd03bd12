"""Registry, repository and image rows: register and remove them, list them, and keep each tag's image row.

What an image holds (its packages and findings) is written by `rampart.fleet.images`; this module keeps
the rows that say which tags exist and what was last seen of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rampart.store.models import ImageFindingRow, ImagePackage, ImageRow, RegistryRow, RepositoryRow


def add_registry(
    session: Session, name: str, host: str, insecure: bool, platform: str, created_by: str, now: datetime
) -> RegistryRow:
    """Store a new registry (the caller checked that the name is free)."""
    row = RegistryRow(
        name=name, host=host, insecure=insecure, platform=platform, created_by=created_by, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def get_registry(session: Session, name: str) -> RegistryRow | None:
    return session.get(RegistryRow, name)


def list_registries(session: Session) -> list[RegistryRow]:
    return list(session.scalars(select(RegistryRow).order_by(RegistryRow.name)))


def remove_registry(session: Session, name: str) -> bool:
    """Remove a registry with its repositories, images and their findings; False when there was none."""
    row = session.get(RegistryRow, name)
    if row is None:
        return False
    for repository in list_repositories(session, name):
        remove_repository(session, repository)
    session.delete(row)
    session.flush()
    return True


def add_repository(
    session: Session, registry: str, name: str, tags: Sequence[str], created_by: str, now: datetime
) -> RepositoryRow:
    """Store a repository to scan (the caller checked that the registry has no repository of that name)."""
    row = RepositoryRow(
        id=uuid.uuid4().hex,
        registry_name=registry,
        name=name,
        tags=list(tags),
        created_by=created_by,
        created_at=now,
        polled_at=None,
        error="",
    )
    session.add(row)
    session.flush()
    return row


def find_repository(session: Session, registry: str, name: str) -> RepositoryRow | None:
    statement = select(RepositoryRow).where(
        RepositoryRow.registry_name == registry, RepositoryRow.name == name
    )
    return session.scalars(statement).first()


def repository_by_id(session: Session, repository_id: str) -> RepositoryRow | None:
    return session.get(RepositoryRow, repository_id)


def list_repositories(session: Session, registry: str | None = None) -> list[RepositoryRow]:
    statement = select(RepositoryRow).order_by(RepositoryRow.registry_name, RepositoryRow.name)
    if registry is not None:
        statement = statement.where(RepositoryRow.registry_name == registry)
    return list(session.scalars(statement))


def remove_repository(session: Session, repository: RepositoryRow) -> None:
    """Remove a repository with its images (their packages and findings go with them)."""
    drop_images(session, [image.id for image in images_of(session, repository.id)])
    session.delete(repository)
    session.flush()


def images_of(session: Session, repository_id: str) -> list[ImageRow]:
    statement = select(ImageRow).where(ImageRow.repository_id == repository_id).order_by(ImageRow.tag)
    return list(session.scalars(statement))


def list_images(session: Session, registries: Collection[str] | None = None) -> list[tuple[ImageRow, str]]:
    """Every image with its registry's name (only those of ``registries`` when given), by reference."""
    statement = select(ImageRow, RepositoryRow.registry_name).join(
        RepositoryRow, RepositoryRow.id == ImageRow.repository_id
    )
    if registries is not None:
        statement = statement.where(RepositoryRow.registry_name.in_(sorted(registries)))
    return [(image, name) for image, name in session.execute(statement.order_by(ImageRow.reference))]


def find_image(session: Session, id_or_reference: str) -> tuple[ImageRow, str] | None:
    """The image with this id or reference, with its registry's name."""
    statement = (
        select(ImageRow, RepositoryRow.registry_name)
        .join(RepositoryRow, RepositoryRow.id == ImageRow.repository_id)
        .where((ImageRow.id == id_or_reference) | (ImageRow.reference == id_or_reference))
    )
    row = session.execute(statement).first()
    return None if row is None else (row[0], row[1])


def image_row(
    session: Session, repository: RepositoryRow, reference: str, tag: str, now: datetime
) -> ImageRow:
    """The row of ``tag`` in ``repository``, added (not yet scanned) when the tag is new."""
    statement = select(ImageRow).where(ImageRow.repository_id == repository.id, ImageRow.tag == tag)
    row = session.scalars(statement).first()
    if row is None:
        row = ImageRow(
            id=uuid.uuid4().hex,
            repository_id=repository.id,
            reference=reference,
            tag=tag,
            digest="",
            layers=[],
            notes=[],
            first_seen_at=now,
            scanned_at=None,
            error="",
        )
        session.add(row)
        session.flush()
    return row


def drop_images(session: Session, image_ids: Sequence[str]) -> None:
    """Delete images; their packages and findings are deleted with them (also on SQLite, without cascades)."""
    if not image_ids:
        return
    ids = sorted(image_ids)
    session.execute(delete(ImageFindingRow).where(ImageFindingRow.image_id.in_(ids)))
    session.execute(delete(ImagePackage).where(ImagePackage.image_id.in_(ids)))
    session.execute(delete(ImageRow).where(ImageRow.id.in_(ids)))
