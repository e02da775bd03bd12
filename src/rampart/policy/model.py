"""The values the authorizer works with: `Principal`, `Resource`, `Decision`, and their Cedar entity form.

Tags are Cedar entity tags with string values (cedarpy 4 supports ``hasTag``/``getTag``), so any tag
key works without a schema change. Tags matter on ``User`` and ``Host`` entities; the singleton
resources `FLEET` (list and create actions) and `AUDIT` carry none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

USER = "User"
HOST = "Host"
TAGGED_TYPES = frozenset({USER, HOST})


@dataclass(frozen=True)
class Principal:
    """The user asking: name, roles, tags (e.g. team=blue) and whether the account is disabled."""

    name: str
    roles: Collection[str]
    tags: Mapping[str, str] = field(default_factory=dict)
    disabled: bool = False


@dataclass(frozen=True)
class Resource:
    """What is acted on: an entity type ("Host", "Fleet", "Audit", "User"), its id and its tags."""

    type: str
    id: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The outcome: allowed or not, the @id of each policy that decided it, and evaluation errors."""

    allowed: bool
    policies: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


FLEET = Resource("Fleet", "fleet")
AUDIT = Resource("Audit", "audit")


def host(host_id: str, tags: Mapping[str, str] | None = None) -> Resource:
    """A Host resource."""
    return Resource(HOST, host_id, dict(tags or {}))


def user(name: str, tags: Mapping[str, str] | None = None) -> Resource:
    """A User resource (the target of user.* and token.self actions)."""
    return Resource(USER, name, dict(tags or {}))


def uid(type_: str, id_: str) -> dict[str, str]:
    """A Cedar entity reference in JSON form."""
    return {"type": type_, "id": id_}


def principal_entity(principal: Principal) -> dict[str, Any]:
    """The Cedar entity of a principal."""
    attrs = {"roles": sorted(principal.roles), "disabled": principal.disabled}
    return {"uid": uid(USER, principal.name), "attrs": attrs, "parents": [], "tags": dict(principal.tags)}


def resource_entity(resource: Resource) -> dict[str, Any]:
    """The Cedar entity of a resource; a User resource that is not the principal has no roles."""
    entity: dict[str, Any] = {"uid": uid(resource.type, resource.id), "attrs": {}, "parents": []}
    if resource.type == USER:
        entity["attrs"] = {"roles": [], "disabled": False}
    if resource.type in TAGGED_TYPES:
        entity["tags"] = dict(resource.tags)
    return entity
