"""`Authorizer`: Cedar decisions for rampart, deny by default, naming the policies that decided.

A decision is allowed only when some permit matches, no forbid matches and evaluation raised no
error (an erroring policy would otherwise be skipped silently, so any error denies). Requests and
entities are checked against the schema: an unknown action, an unknown resource type or a context
the schema does not declare is denied with the error in `Decision.errors`.

`filter_allowed` decides a whole list in one batch, under one context shared by every resource.
When the policies name no entity of the resources' type, the context refers to no entity and the
resources are not users, a decision can depend only on the resource's type and tags (and the shared
context), so one representative per distinct tag set is evaluated.

A context holds plain JSON values; extension values use Cedar's JSON form, e.g. an address is
``{"__extn": {"fn": "ip", "arg": "10.1.2.3"}}`` (see `rampart.policy.model.session_context`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import cedarpy

from rampart.errors import UsageError
from rampart.policy import loader
from rampart.policy.model import USER, Decision, Principal, Resource, principal_entity, resource_entity, uid

__all__ = ["Authorizer", "Decision", "Principal", "Resource"]

_Key = tuple[str, str]
_KeyFn = Callable[[Resource], Hashable]
_ENTITY_ERROR = Decision(False, errors=("the principal or resource does not fit the policy schema",))


class Authorizer:
    """Decides whether a principal may perform an action on a resource under one checked policy set."""

    def __init__(self, loaded: loader.LoadedPolicies) -> None:
        """Use an already loaded and validated policy set (see `default` and `from_files`)."""
        self._loaded = loaded
        self._literal_types = loaded.entity_literal_types()

    @classmethod
    def default(cls) -> Self:
        """The policies and schema shipped with rampart."""
        return cls(_default_policies())

    @classmethod
    def from_files(cls, policy_path: Path, schema_path: Path | None = None) -> Self:
        """Policies from ``policy_path`` validated against ``schema_path`` (default: rampart's schema)."""
        schema = loader.read_text(schema_path) if schema_path else loader.packaged(loader.DEFAULT_SCHEMA)
        return cls(loader.load(loader.read_text(policy_path), schema, str(policy_path)))

    def authorize(
        self, principal: Principal, action: str, resource: Resource, context: Mapping[str, Any] | None = None
    ) -> Decision:
        """May ``principal`` perform ``action`` on ``resource``?"""
        results = self._batch(principal, action, [resource], context)
        return _decision(results[0]) if results else _ENTITY_ERROR

    def filter_allowed(
        self,
        principal: Principal,
        action: str,
        resources: Sequence[Resource],
        context: Mapping[str, Any] | None = None,
    ) -> list[Resource]:
        """The resources ``principal`` may perform ``action`` on, in their given order."""
        _check_unique_ids(resources)
        key_of = self._key_function(resources, context)
        keys = [key_of(item) for item in resources]
        unique = dict(zip(reversed(keys), reversed(resources), strict=True))  # first occurrence wins
        results = self._batch(principal, action, list(unique.values()), context)
        allowed = {key for key, result in zip(unique, results, strict=False) if _allowed(result)}
        return [item for item, key in zip(resources, keys, strict=True) if key in allowed]

    def _key_function(self, resources: Sequence[Resource], context: Mapping[str, Any] | None) -> _KeyFn:
        """Group by tags when no decision can depend on a resource's id (see the module docstring)."""
        identity = _names_entities(context) or any(
            item.type == USER or item.type in self._literal_types for item in resources
        )
        return _by_id if identity else _by_tags

    def _batch(
        self,
        principal: Principal,
        action: str,
        resources: Sequence[Resource],
        context: Mapping[str, Any] | None,
    ) -> list[cedarpy.AuthzResult]:
        """One Cedar result per resource; empty when the entities themselves do not fit the schema."""
        if not resources:
            return []
        try:
            handle = cedarpy.Entities.from_json_str(_entities(principal, resources), self._loaded.schema)
        except ValueError:
            return []
        requests = [_request(principal, action, item, context) for item in resources]
        return cedarpy.is_authorized_batch(
            requests, self._loaded.policies, handle, schema=self._loaded.schema
        )


@functools.cache
def _default_policies() -> loader.LoadedPolicies:
    return loader.load(
        loader.packaged(loader.DEFAULT_POLICY), loader.packaged(loader.DEFAULT_SCHEMA), loader.DEFAULT_POLICY
    )


def _request(
    principal: Principal, action: str, resource: Resource, context: Mapping[str, Any] | None
) -> dict[str, Any]:
    request = {
        "principal": uid(USER, principal.name),
        "action": uid("Action", action),
        "resource": uid(resource.type, resource.id),
    }
    return {**request, "context": dict(context)} if context else request


def _entities(principal: Principal, resources: Sequence[Resource]) -> str:
    me = (USER, principal.name)
    others = [resource_entity(item) for item in resources if (item.type, item.id) != me]
    return json.dumps([principal_entity(principal), *others])


def _decision(result: cedarpy.AuthzResult) -> Decision:
    diagnostics = result.diagnostics
    names = diagnostics.id_annotations_by_reason
    policies = tuple(sorted(names.get(reason, reason) for reason in diagnostics.reasons))
    errors = tuple(str(error) for error in diagnostics.errors)
    return Decision(allowed=result.allowed and not errors, policies=policies, errors=errors)


def _allowed(result: cedarpy.AuthzResult) -> bool:
    return result.allowed and not result.diagnostics.errors


def _by_id(resource: Resource) -> _Key:
    return (resource.type, resource.id)


def _by_tags(resource: Resource) -> tuple[str, frozenset[tuple[str, str]]]:
    return (resource.type, frozenset(resource.tags.items()))


def _names_entities(node: object) -> bool:
    """True when a context value holds an entity reference (explicit or implicit JSON form)."""
    if isinstance(node, Mapping):
        if "__entity" in node or ("type" in node and "id" in node):
            return True
        return any(_names_entities(value) for value in node.values())
    if isinstance(node, list | tuple):
        return any(_names_entities(value) for value in node)
    return False


def _check_unique_ids(resources: Sequence[Resource]) -> None:
    seen: dict[_Key, Mapping[str, str]] = {}
    for item in resources:
        tags = seen.setdefault(_by_id(item), item.tags)
        if tags != item.tags:
            raise UsageError(f"{item.type} {item.id!r} is listed twice with different tags")
