"""Registry images: the images scanned, one image with its packages (and their layers), image findings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from rampart.fleet import image_queries
from rampart.fleet.image_queries import ImageCounts
from rampart.policy.model import FLEET
from rampart.server.deps import Authenticated, Caller, State, authorize
from rampart.server.routes.findings import SeverityList, Text, severities
from rampart.server.routes.registries import readable_registries
from rampart.server.schemas import ImageFindingOut, ImageFindingPage, ImageOut, ImagePackageOut, OsOut
from rampart.server.state import ServerState
from rampart.store import registries as registry_store

router = APIRouter(prefix="/images", tags=["images"])
NO_SUCH_IMAGE = "no such image"


def _out(image: Any, registry: str, repository: str, counts: ImageCounts) -> ImageOut:
    return ImageOut(
        id=image.id,
        reference=image.reference,
        registry=registry,
        repository=repository,
        tag=image.tag,
        digest=image.digest,
        os=OsOut(id=image.os_id, version=image.os_version, pretty=image.os_pretty),
        layers=list(image.layers),
        notes=list(image.notes),
        first_seen_at=image.first_seen_at,
        scanned_at=image.scanned_at,
        error=image.error,
        packages=counts.packages,
        open=counts.open,
        fixable=counts.fixable,
    )


@router.get("", response_model=list[ImageOut])
def list_images(
    caller: Authenticated, state: State, registry: Text = None, reference: Text = None
) -> list[ImageOut]:
    """The images of the registries the caller may read, by reference."""
    authorize(state, caller, "registry.read", FLEET)
    allowed = [r for r in readable_registries(state, caller) if registry is None or r == registry]
    with state.reader() as session:
        rows = [
            (i, r)
            for i, r in registry_store.list_images(session, allowed)
            if reference in (None, i.reference)
        ]
        counts = image_queries.image_counts(session, [image.id for image, _ in rows])
        names = {r.id: r.name for r in registry_store.list_repositories(session)}
        return [_out(i, r, names.get(i.repository_id, ""), counts[i.id]) for i, r in rows]


@router.get("/findings", response_model=ImageFindingPage)
def list_image_findings(
    caller: Authenticated,
    state: State,
    severity: SeverityList = None,
    image: Text = None,
    registry: Text = None,
    package: Text = None,
    advisory: Text = None,
    fixable: bool | None = None,
    status_filter: Annotated[Literal["open", "fixed", "all"], Query(alias="status")] = "open",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> ImageFindingPage:
    """Findings of the images the caller may see, filtered, worst first."""
    authorize(state, caller, "registry.read", FLEET)
    filters = image_queries.ImageFindingFilter(
        severities=severities(severity),
        image=image,
        registry=registry,
        package=package,
        advisory=advisory,
        fixable=fixable,
        status=status_filter,
        registries=readable_registries(state, caller),
    )
    with state.reader() as session:
        total, rows = image_queries.list_image_findings(session, filters, limit=limit, offset=offset)
        items = [ImageFindingOut.model_validate(row, from_attributes=True) for row in rows]
    return ImageFindingPage(total=total, items=items)


@router.get("/{image_id}", response_model=ImageOut)
def get_image(image_id: str, caller: Authenticated, state: State) -> ImageOut:
    """One image (hidden as absent when the caller may not read its registry)."""
    image, registry = _visible(state, caller, image_id)
    with state.reader() as session:
        repository = registry_store.repository_by_id(session, image.repository_id)
        counts = image_queries.image_counts(session, [image.id])[image.id]
    return _out(image, registry, repository.name if repository else "", counts)


@router.get("/{image_id}/packages", response_model=list[ImagePackageOut])
def image_packages(image_id: str, caller: Authenticated, state: State) -> list[ImagePackageOut]:
    """An image's packages, each with the layer that brought it."""
    image, _ = _visible(state, caller, image_id)
    with state.reader() as session:
        return [
            ImagePackageOut.model_validate(p, from_attributes=True)
            for p in image_queries.image_package_rows(session, image.id)
        ]


def _visible(state: ServerState, caller: Caller, image_id: str) -> tuple[Any, str]:
    authorize(state, caller, "registry.read", FLEET)
    with state.reader() as session:
        found = registry_store.find_image(session, image_id[:512])
    if found is None or found[1] not in readable_registries(state, caller):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_IMAGE)
    return found
