"""Storing what a scan of one registry image found: its packages (with their layers) and its findings.

Like a host's inventory: the image's package rows are replaced, packages not judged against the current
advisory build are matched, and the image's findings are opened, refreshed and closed in set-based SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from rampart.fleet.holdings import IMAGES
from rampart.fleet.ingest import judge_new, replace_packages
from rampart.fleet.sql import lock_fleet, sync_findings
from rampart.match.source import AdvisorySource
from rampart.model import OsRelease, Package
from rampart.store.engine import take_write_lock
from rampart.store.models import ImageRow

MAX_NOTES = 100


@dataclass(frozen=True)
class ImageScan:
    """One image as scanned: the digest it was pulled by, its OS, layers, packages and per-file notes."""

    digest: str
    os: OsRelease | None
    layers: tuple[str, ...]
    packages: tuple[Package, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageStored:
    """Findings opened and closed by storing a scan, and how many distinct packages the image has."""

    opened: int
    closed: int
    packages: int


def store_image_scan(
    session: Session, image: ImageRow, scan: ImageScan, source: AdvisorySource, now: datetime
) -> ImageStored:
    """Replace ``image``'s packages with the scan's and bring its findings up to date (the caller commits)."""
    take_write_lock(session)
    lock_fleet(session, exclusive=False)
    package_ids = replace_packages(session, IMAGES, image.id, scan.packages)
    judge_new(session, package_ids, source)
    opened, closed = sync_findings(session, now, image.id, IMAGES)
    _describe(image, scan, now)
    session.flush()
    return ImageStored(opened, closed, len(package_ids))


def _describe(image: ImageRow, scan: ImageScan, now: datetime) -> None:
    image.digest, image.layers, image.scanned_at, image.error = scan.digest, list(scan.layers), now, ""
    image.notes = list(scan.notes[:MAX_NOTES])
    release = scan.os
    image.os_id = release.id[:64] if release else ""
    image.os_version = release.version_id[:64] if release else ""
    image.os_pretty = release.pretty_name[:512] if release else ""


def record_failure(image: ImageRow, message: str) -> None:
    """Keep what the last good scan found, and say why the latest one failed."""
    image.error = " ".join(message.split())[:500] or "scan failed"
