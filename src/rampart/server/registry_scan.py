"""Registry scanning by the server: poll each registered repository, scan new and changed tags, drop gone ones.

A poll lists the repository's tags, keeps those matching its patterns, and asks the digest each names. A tag
whose digest is new (or whose last scan failed) is pulled by that digest, verified, inventoried without
extracting anything, and stored with its findings; a tag no longer listed loses its image row, packages and
findings. One poll runs at a time; a watcher polls every repository on the configured interval. Registry
credentials come from a docker-style config file the server reads at each poll (never from the database).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from rampart.errors import RampartError
from rampart.fleet.images import ImageScan, record_failure, store_image_scan
from rampart.server.results import advisory_source
from rampart.server.state import ServerState
from rampart.store import registries as registry_store

if TYPE_CHECKING:
    from rampart.image.cache import LayerCache
    from rampart.image.credentials import Credentials
    from rampart.image.registry import RegistryClient

log = logging.getLogger("rampart.server")
MAX_ERRORS = 20


@dataclass(frozen=True)
class Place:
    """Where a repository lives: its registry's name, host, transport and platform, and its own name."""

    registry: str
    host: str
    insecure: bool
    platform: str
    repository: str
    repository_id: str
    patterns: tuple[str, ...]


@dataclass
class PollOutcome:
    """What one poll of a repository did."""

    registry: str
    repository: str
    tags: int = 0
    scanned: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, what: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{what}: {message}"[:300])


def wanted_tags(tags: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The tags matching any of the glob ``patterns`` (case-sensitive), in order."""
    return [tag for tag in tags if any(fnmatch.fnmatchcase(tag, pattern) for pattern in patterns)]


def places(state: ServerState, registry: str | None = None, repository: str | None = None) -> list[Place]:
    """The repositories to poll (those of one registry, or one repository, when named)."""
    with state.reader() as session:
        found = []
        for row in registry_store.list_repositories(session, registry):
            if repository is not None and row.name != repository:
                continue
            owner = registry_store.get_registry(session, row.registry_name)
            assert owner is not None  # a repository row never outlives its registry
            found.append(
                Place(
                    owner.name, owner.host, owner.insecure, owner.platform, row.name, row.id, tuple(row.tags)
                )
            )
    return found


def poll_repository(state: ServerState, place: Place) -> PollOutcome:
    """List, compare and scan one repository's tags; the outcome says what happened to each."""
    from rampart.image.catalog import list_tags

    outcome = PollOutcome(place.registry, place.repository)
    try:
        credentials = _credentials(state)
        with closing(_client(place, credentials)) as client:
            listed = list_tags(client, place.repository)
            tags = wanted_tags(listed.tags, place.patterns)
            outcome.tags = len(tags)
            for tag in tags:
                _poll_tag(state, place, client, credentials, tag, outcome)
    except RampartError as error:
        outcome.fail(f"{place.host}/{place.repository}", error.message)
        _repository_polled(state, place, error.message)
        return outcome
    outcome.removed = _drop_gone(state, place, set(tags))
    _repository_polled(state, place, "")
    return outcome


def _poll_tag(
    state: ServerState,
    place: Place,
    client: RegistryClient,
    credentials: Credentials,
    tag: str,
    outcome: PollOutcome,
) -> None:
    from rampart.image.catalog import tag_digest

    reference = f"{place.host}/{place.repository}:{tag}"
    try:
        digest = tag_digest(client, place.repository, tag)
        if _unchanged(state, place, reference, tag, digest):
            outcome.unchanged += 1
            return
        scan = scan_image(place, digest, credentials, _layer_cache(state))
    except RampartError as error:
        outcome.fail(reference, error.message)
        _image_failed(state, place, reference, tag, error.message)
        return
    _store(state, place, reference, tag, scan)
    outcome.scanned += 1


def scan_image(place: Place, digest: str, credentials: Credentials, cache: LayerCache) -> ImageScan:
    """Pull the image by ``digest`` (every blob verified) and inventory it without extracting anything."""
    from rampart.image.registry import RegistrySource, parse_reference
    from rampart.image.source import Platform
    from rampart.image.target import ImageTarget
    from rampart.inventory.collect import collect_inventory

    reference = parse_reference(f"{place.host}/{place.repository}@{digest}")
    platform = Platform.parse(place.platform) if place.platform else None
    source = RegistrySource(reference, platform, client=_client(place, credentials), cache=cache)
    with ImageTarget(source) as target:
        inventory = collect_inventory(target, workers=1)
        layers = tuple(layer.digest for layer in target.layers)
        notes = tuple(f"{e.path}: {e.message}" for e in (*target.errors, *inventory.errors))
    return ImageScan(digest, inventory.os, layers, inventory.packages, notes)


def _client(place: Place, credentials: Credentials) -> RegistryClient:
    from rampart.image.credentials import normalise_host
    from rampart.image.registry import RegistryClient, parse_reference

    api_host = parse_reference(f"{place.host}/{place.repository}").api_host
    return RegistryClient(api_host, credentials.for_host(normalise_host(place.host)), place.insecure)


def _credentials(state: ServerState) -> Credentials:
    from rampart.image.credentials import load_credentials

    found = load_credentials(state.config.registry_auth)
    for note in found.notes:
        log.warning("registry credentials: %s", note)
    return found


def _layer_cache(state: ServerState) -> LayerCache:
    from rampart.image.cache import LayerCache

    return LayerCache(state.config.data_dir / "layers")


def _unchanged(state: ServerState, place: Place, reference: str, tag: str, digest: str) -> bool:
    """Whether ``tag`` was scanned successfully at ``digest`` already (its row is added when new)."""
    with state.session() as session:
        repository = registry_store.repository_by_id(session, place.repository_id)
        if repository is None:
            raise RampartError(f"repository {place.repository} was removed during the poll")
        image = registry_store.image_row(session, repository, reference, tag, state.clock())
        return image.digest == digest and image.scanned_at is not None and not image.error


def _store(state: ServerState, place: Place, reference: str, tag: str, scan: ImageScan) -> None:
    with advisory_source(state) as source, state.session() as session:
        repository = registry_store.repository_by_id(session, place.repository_id)
        if repository is None:
            return  # removed while it was being scanned: nothing to keep
        image = registry_store.image_row(session, repository, reference, tag, state.clock())
        store_image_scan(session, image, scan, source, state.clock())


def _image_failed(state: ServerState, place: Place, reference: str, tag: str, message: str) -> None:
    with state.session() as session:
        repository = registry_store.repository_by_id(session, place.repository_id)
        if repository is not None:
            record_failure(
                registry_store.image_row(session, repository, reference, tag, state.clock()), message
            )


def _drop_gone(state: ServerState, place: Place, tags: set[str]) -> int:
    with state.session() as session:
        gone = [
            image.id
            for image in registry_store.images_of(session, place.repository_id)
            if image.tag not in tags
        ]
        registry_store.drop_images(session, gone)
    return len(gone)


def _repository_polled(state: ServerState, place: Place, error: str) -> None:
    with state.session() as session:
        repository = registry_store.repository_by_id(session, place.repository_id)
        if repository is not None:
            repository.polled_at, repository.error = state.clock(), " ".join(error.split())[:500]


async def poll_now(
    state: ServerState, registry: str | None = None, repository: str | None = None
) -> list[PollOutcome]:
    """Poll the named registry's repositories (all of them when none is named), one poll at a time."""
    async with state.registry_lock:
        targets = await run_in_threadpool(places, state, registry, repository)
        outcomes = []
        for place in targets:
            outcomes.append(await run_in_threadpool(poll_repository, state, place))
        return outcomes


async def watch_registries(state: ServerState) -> None:
    """Poll every registered repository on the configured interval. Runs until cancelled."""
    while True:
        try:
            for outcome in await poll_now(state):
                _audit_poll(state, outcome)
        except RampartError as error:
            log.warning("registry poll skipped: %s", error.message)
        await asyncio.sleep(state.config.registry_interval)


def _audit_poll(state: ServerState, outcome: PollOutcome) -> None:
    details = {
        "tags": outcome.tags,
        "scanned": outcome.scanned,
        "unchanged": outcome.unchanged,
        "removed": outcome.removed,
        "failed": outcome.failed,
    }
    target = f"registry:{outcome.registry}/{outcome.repository}"
    state.audit.append("server", "registry.scan", target, "failure" if outcome.failed else "success", details)
