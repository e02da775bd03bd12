"""Registries the server scans: register and remove registries and repositories, and poll them now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from rampart.policy.model import FLEET, registry
from rampart.server.deps import Authenticated, Caller, State, audit_write, authorize
from rampart.server.registry_scan import PollOutcome, poll_now
from rampart.server.schemas import (
    Name,
    RegistryCreate,
    RegistryOut,
    RegistryScanOut,
    RepositoryCreate,
    RepositoryName,
    RepositoryOut,
    RepositoryScanOut,
)
from rampart.server.state import ServerState
from rampart.store import registries as registry_store

router = APIRouter(prefix="/registries", tags=["registries"])
NO_SUCH_REGISTRY = "no such registry"


def readable_registries(state: ServerState, caller: Caller) -> list[str]:
    """The names of the registries the caller may read (none, not an error, when it may read none)."""
    from rampart.server.deps import decide

    if not decide(state, caller, "registry.read", FLEET).allowed:
        return []
    with state.reader() as session:
        names = [row.name for row in registry_store.list_registries(session)]
    allowed = state.authorizer.filter_allowed(caller.principal, "registry.read", [registry(n) for n in names])
    return sorted(resource.id for resource in allowed)


def _repository_out(row: Any, images: int) -> RepositoryOut:
    return RepositoryOut(
        registry=row.registry_name,
        name=row.name,
        tags=list(row.tags),
        created_by=row.created_by,
        created_at=row.created_at,
        polled_at=row.polled_at,
        error=row.error,
        images=images,
    )


def _registry_out(session: Any, row: Any) -> RegistryOut:
    repositories = [
        _repository_out(r, len(registry_store.images_of(session, r.id)))
        for r in registry_store.list_repositories(session, row.name)
    ]
    return RegistryOut(
        name=row.name,
        host=row.host,
        insecure=row.insecure,
        platform=row.platform,
        created_by=row.created_by,
        created_at=row.created_at,
        repositories=repositories,
    )


@router.get("", response_model=list[RegistryOut])
def list_registries(caller: Authenticated, state: State) -> list[RegistryOut]:
    """The registries the caller may read, each with its repositories."""
    authorize(state, caller, "registry.read", FLEET)
    names = set(readable_registries(state, caller))
    with state.reader() as session:
        return [_registry_out(session, r) for r in registry_store.list_registries(session) if r.name in names]


@router.post("", response_model=RegistryOut, status_code=status.HTTP_201_CREATED)
def add_registry(body: RegistryCreate, caller: Authenticated, state: State) -> RegistryOut:
    """Register a registry; its repositories are added next."""
    authorize(state, caller, "registry.write", registry(body.name))
    with state.session() as session:
        if registry_store.get_registry(session, body.name) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"registry {body.name} exists already")
        row = registry_store.add_registry(
            session, body.name, body.host, body.insecure, body.platform, caller.name, state.clock()
        )
        out = _registry_out(session, row)
    details = {"host": body.host, "insecure": body.insecure, "platform": body.platform or None}
    audit_write(state, caller, "registry.add", f"registry:{body.name}", details)
    return out


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_registry(name: Name, caller: Authenticated, state: State) -> Response:
    """Remove a registry with its repositories, images and their findings."""
    authorize(state, caller, "registry.write", registry(name))
    with state.session() as session:
        if not registry_store.remove_registry(session, name):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_REGISTRY)
    audit_write(state, caller, "registry.remove", f"registry:{name}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/repositories", response_model=RepositoryOut, status_code=status.HTTP_201_CREATED)
def add_repository(name: Name, body: RepositoryCreate, caller: Authenticated, state: State) -> RepositoryOut:
    """Scan a repository of the registry: the tags matching ``tags`` (glob patterns)."""
    authorize(state, caller, "registry.write", registry(name))
    with state.session() as session:
        if registry_store.get_registry(session, name) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_REGISTRY)
        if registry_store.find_repository(session, name, body.name) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"repository {body.name} is registered already")
        row = registry_store.add_repository(session, name, body.name, body.tags, caller.name, state.clock())
        out = _repository_out(row, 0)
    audit_write(
        state,
        caller,
        "registry.repository.add",
        f"registry:{name}/{body.name}",
        {"tags": ",".join(body.tags)},
    )
    return out


@router.delete("/{name}/repositories/{repository:path}", status_code=status.HTTP_204_NO_CONTENT)
def remove_repository(
    name: Name, repository: RepositoryName, caller: Authenticated, state: State
) -> Response:
    """Stop scanning a repository; its images and their findings are removed."""
    authorize(state, caller, "registry.write", registry(name))
    with state.session() as session:
        row = registry_store.find_repository(session, name, repository)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such repository")
        registry_store.remove_repository(session, row)
    audit_write(state, caller, "registry.repository.remove", f"registry:{name}/{repository}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/scan", response_model=RegistryScanOut)
async def scan_registry(
    name: Name,
    caller: Authenticated,
    state: State,
    repository: Annotated[RepositoryName | None, Query()] = None,
) -> RegistryScanOut:
    """Poll the registry's repositories (or one) now: scan new and changed tags, drop removed ones."""
    await run_in_threadpool(authorize, state, caller, "registry.scan", registry(name))
    await run_in_threadpool(_check_target, state, name, repository)
    outcomes = await poll_now(state, name, repository)
    for outcome in outcomes:
        await run_in_threadpool(_audit, state, caller, outcome)
    return RegistryScanOut(repositories=[RepositoryScanOut(**vars(o)) for o in outcomes])


def _check_target(state: ServerState, name: str, repository: str | None) -> None:
    with state.reader() as session:
        if registry_store.get_registry(session, name) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_REGISTRY)
        if repository is not None and registry_store.find_repository(session, name, repository) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such repository")


def _audit(state: ServerState, caller: Caller, outcome: PollOutcome) -> None:
    details = {k: getattr(outcome, k) for k in ("tags", "scanned", "unchanged", "removed", "failed")}
    audit_write(state, caller, "registry.scan", f"registry:{outcome.registry}/{outcome.repository}", details)
