"""The values the authorizer works with: `Principal`, `Resource`, `Decision`, and their Cedar entity form.

Tags are Cedar entity tags with string values (cedarpy 4 supports ``hasTag``/``getTag``), so any tag
key works without a schema change. Tags matter on ``User`` and ``Host`` entities; the singleton
resources `FLEET` (list and create actions) and `AUDIT` carry none.

Access-session actions (`SESSION_ACTIONS`) take a context built by `session_context`: whether the
login passed a second factor, the client's address as a Cedar ``ipaddr`` and the UTC hour and weekday.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

USER = "User"
HOST = "Host"
TAGGED_TYPES = frozenset({USER, HOST})
SESSION_ACTIONS = (
    "session.shell",
    "session.exec",
    "session.forward",
    "session.copy",
    "session.join",
    "session.terminate",
    "session.read",
    "recording.view",
    "session.root",
)
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 (a placeholder address, never bound)


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
REGISTRY = "Registry"
AUDIT = Resource("Audit", "audit")


def host(host_id: str, tags: Mapping[str, str] | None = None) -> Resource:
    """A Host resource."""
    return Resource(HOST, host_id, dict(tags or {}))


def registry(name: str) -> Resource:
    """A Registry resource (the target of registry.* actions on one registry)."""
    return Resource(REGISTRY, name)


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


def session_context(*, mfa: bool, source_ip: str, now: datetime) -> dict[str, Any]:
    """The Cedar context of a session action; a ``source_ip`` that is no IP address becomes 0.0.0.0.

    A naive ``now`` is taken as UTC; an IPv4 address written in IPv6 form is given as IPv4.
    """
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return {
        "mfa": bool(mfa),
        "source_ip": ip_value(source_ip),
        "hour": moment.hour,
        "weekday": moment.weekday(),
    }


def ip_value(address: str) -> dict[str, Any]:
    """A Cedar ``ipaddr`` extension value in JSON form."""
    return {"__extn": {"fn": "ip", "arg": _plain_ip(address)}}


def _plain_ip(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address[:64])
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        if parsed.scope_id:
            return str(ipaddress.IPv6Address(int(parsed)))
    return str(parsed)
