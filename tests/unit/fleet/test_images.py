"""Registry images in the fleet store: scans stored with their layers, findings beside host findings,
re-matching both at once, visibility by registry, and images removed with everything they held."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rampart.fleet.image_queries import (
    ImageFindingFilter,
    image_counts,
    image_package_rows,
    list_image_findings,
)
from rampart.fleet.images import ImageScan, record_failure, store_image_scan
from rampart.fleet.ingest import ingest_inventory
from rampart.fleet.queries import FindingFilter, list_findings
from rampart.fleet.rematch import rematch_fleet
from rampart.model import OsRelease, Package
from rampart.store import registries as registry_store
from rampart.store.engine import write_session
from rampart.store.models import ImageFindingRow, ImagePackage, ImageRow
from unit.fleet.test_rematch import SUDO, XORG, inventory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
BASE, TOP = "sha256:" + "a" * 64, "sha256:" + "b" * 64
DEBIAN = OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)")


def layered(package: Package, layer: str) -> Package:
    return replace(package, layer=layer)


def scan(*packages: Package, digest: str = "sha256:" + "1" * 64) -> ImageScan:
    return ImageScan(digest, DEBIAN, (BASE, TOP), packages, ("layer x: truncated",))


@pytest.fixture
def add_image(store_sessions: sessionmaker[Session]) -> Callable[[str, str], str]:
    """``add_image(registry, tag)`` -> id of a new, not yet scanned image of ``registry``'s team/app."""

    def make(registry: str, tag: str) -> str:
        with write_session(store_sessions) as session:
            if registry_store.get_registry(session, registry) is None:
                registry_store.add_registry(session, registry, f"{registry}.test", False, "", "admin", T0)
                registry_store.add_repository(session, registry, "team/app", ["*"], "admin", T0)
            repository = registry_store.find_repository(session, registry, "team/app")
            assert repository is not None
            return registry_store.image_row(
                session, repository, f"{registry}.test/team/app:{tag}", tag, T0
            ).id

    return make


def store(
    sessions: sessionmaker[Session], image_id: str, result: ImageScan, source: Any, now: datetime = T0
) -> Any:
    with write_session(sessions) as session:
        image = session.get(ImageRow, image_id)
        assert image is not None
        return store_image_scan(session, image, result, source, now)


def image_findings(sessions: sessionmaker[Session], **filters: Any) -> set[tuple[str, str, str, str]]:
    with sessions() as session:
        _, rows = list_image_findings(session, ImageFindingFilter(**filters), limit=1000)
    return {(r.reference.rsplit(":", 1)[1], r.package, r.vulnerability_id, r.layer) for r in rows}


def test_a_stored_scan_keeps_packages_with_their_layers_and_opens_findings(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_image: Callable[[str, str], str],
) -> None:
    source = advisory_db("DSA-5321-1", "DSA-5380-1")
    image_id = add_image("hub", "1.0")
    stored = store(store_sessions, image_id, scan(layered(SUDO, BASE), layered(XORG, TOP)), source)
    assert (stored.opened, stored.closed, stored.packages) == (2, 0, 2)
    assert image_findings(store_sessions) == {
        ("1.0", "sudo", "CVE-2023-22809", BASE),
        ("1.0", "xserver-xorg-core", "CVE-2023-1393", TOP),
    }
    with store_sessions() as session:
        image = session.get(ImageRow, image_id)
        assert image is not None and image.os_id == "debian" and image.layers == [BASE, TOP]
        assert image.notes == ["layer x: truncated"] and image.scanned_at == T0
        assert {(p.name, p.layer) for p in image_package_rows(session, image_id)} == {
            ("sudo", BASE),
            ("xserver-xorg-core", TOP),
        }
        counts = image_counts(session, [image_id])[image_id]
    assert counts.packages == 2 and sum(counts.open.values()) == 2


def test_a_rescan_without_a_package_closes_its_finding_and_a_failure_keeps_the_last_result(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_image: Callable[[str, str], str],
) -> None:
    source = advisory_db("DSA-5321-1", "DSA-5380-1")
    image_id = add_image("hub", "1.0")
    store(store_sessions, image_id, scan(SUDO, XORG), source)
    stored = store(store_sessions, image_id, scan(SUDO, digest="sha256:" + "2" * 64), source, T1)
    assert (stored.opened, stored.closed) == (0, 1)
    assert {f[1] for f in image_findings(store_sessions)} == {"sudo"}
    assert {f[1] for f in image_findings(store_sessions, status="fixed")} == {"xserver-xorg-core"}
    with write_session(store_sessions) as session:
        image = session.get(ImageRow, image_id)
        assert image is not None
        record_failure(image, "unauthorized:\n registry.test refused")
    with store_sessions() as session:
        image = session.get(ImageRow, image_id)
        assert image is not None and image.error == "unauthorized: registry.test refused"
        assert image.digest == "sha256:" + "2" * 64
    assert {f[1] for f in image_findings(store_sessions)} == {"sudo"}


@pytest.mark.parametrize("full", [False, True], ids=["delta", "full"])
def test_rematch_updates_image_findings_beside_host_findings(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_host: Callable[..., str],
    add_image: Callable[[str, str], str],
    full: bool,
) -> None:
    old, new = advisory_db("DSA-5321-1"), advisory_db("DSA-5380-1")
    host_id = add_host("web")
    with write_session(store_sessions) as session:
        ingest_inventory(session, host_id, inventory([SUDO, XORG]), old, T0)
    image_id = add_image("hub", "1.0")
    store(store_sessions, image_id, scan(SUDO, XORG), old)
    assert {f[1] for f in image_findings(store_sessions)} == {"sudo"}

    outcome = rematch_fleet(store_sessions, new, "build-2", T1, full=full)

    assert (outcome.hosts, outcome.images, outcome.packages) == (1, 1, 2)
    assert (outcome.opened, outcome.closed) == (2, 2)  # one of each on the host and on the image
    assert {f[1] for f in image_findings(store_sessions)} == {"xserver-xorg-core"}
    with store_sessions() as session:
        _, host_rows = list_findings(session, FindingFilter())
    assert {r.package for r in host_rows} == {"xserver-xorg-core"}


def test_image_findings_are_limited_to_readable_registries_and_filters(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_image: Callable[[str, str], str],
) -> None:
    source = advisory_db("DSA-5321-1", "DSA-5380-1")
    for registry in ("hub", "private"):
        store(store_sessions, add_image(registry, "1.0"), scan(SUDO, XORG), source)
    assert len(image_findings(store_sessions)) == 2  # the same tag in two registries: one set
    with store_sessions() as session:
        total, _ = list_image_findings(session, ImageFindingFilter(registries=["hub"]))
        nothing, _ = list_image_findings(session, ImageFindingFilter(registries=[]))
        named, rows = list_image_findings(session, ImageFindingFilter(registry="private", package="sudo"))
        by_alias, _ = list_image_findings(session, ImageFindingFilter(advisory="DSA-5321-1"))
        image, _ = list_image_findings(session, ImageFindingFilter(image="hub.test/team/app:1.0"))
    assert (total, nothing, named, by_alias, image) == (2, 0, 1, 2, 2)
    assert rows[0].reference == "private.test/team/app:1.0"


def test_removing_a_registry_removes_its_images_packages_and_findings(
    store_sessions: sessionmaker[Session],
    advisory_db: Callable[..., Any],
    add_image: Callable[[str, str], str],
) -> None:
    source = advisory_db("DSA-5321-1")
    store(store_sessions, add_image("hub", "1.0"), scan(SUDO), source)
    kept = add_image("private", "1.0")
    store(store_sessions, kept, scan(SUDO), source)
    with write_session(store_sessions) as session:
        assert registry_store.remove_registry(session, "hub")
        assert not registry_store.remove_registry(session, "hub")
    with store_sessions() as session:
        assert [i.id for i, _ in registry_store.list_images(session)] == [kept]
        for table in (ImageRow, ImagePackage, ImageFindingRow):
            assert session.scalar(select(func.count()).select_from(table)) == 1
