"""Reading and checking policy files: parse, require a unique @id on every policy, validate against the schema.

Any problem is a `PolicyError` whose one-line message names the file and, where it can, the
policy (by its @id). Files are capped at 1 MiB.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy

from rampart.errors import PolicyError

MAX_FILE = 1024 * 1024
MAX_NESTING = 64  # the Cedar parser crashes the process on very deep nesting (about 1000 levels)
_OPEN, _CLOSE = ("(", "[", "{"), (")", "]", "}")
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|[()\[\]{}]')
DEFAULT_POLICY = "default.cedar"
DEFAULT_SCHEMA = "schema.cedarschema"


@dataclass(frozen=True)
class LoadedPolicies:
    """A checked policy set: parsed handles plus the EST (JSON) form used to inspect it."""

    policies: cedarpy.PolicySet
    schema: cedarpy.Schema
    est: dict[str, Any]

    def entity_literal_types(self) -> frozenset[str]:
        """Every entity type some policy names a specific entity of (``Host::"h-1"`` names Host)."""
        return frozenset(_literal_types(self.est))


def packaged(name: str) -> str:
    """The text of a policy file shipped with rampart."""
    return resources.files("rampart.policy").joinpath(name).read_text(encoding="utf-8")


def read_text(path: Path) -> str:
    """A policy or schema file's text; PolicyError if unreadable, too large or not UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE:
        raise PolicyError(f"{path} is larger than {MAX_FILE} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path} is not UTF-8 text") from exc


def load(policy_text: str, schema_text: str, origin: str) -> LoadedPolicies:
    """Parse and validate ``policy_text`` against ``schema_text``; ``origin`` names the file in errors."""
    _check_nesting(schema_text, f"schema for {origin}")
    _check_nesting(policy_text, origin)
    schema = _schema(schema_text, origin)
    policies, est = _parse(policy_text, origin)
    _check_ids(est, origin)
    _validate(policy_text, schema, origin)
    return LoadedPolicies(policies=policies, schema=schema, est=est)


def _check_nesting(text: str, origin: str) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):  # strings and comments are single tokens, so skipped
        item = token.group()
        depth = depth + 1 if item in _OPEN else max(depth - (item in _CLOSE), 0)
        if depth > MAX_NESTING:
            raise PolicyError(f"{origin}: brackets nested deeper than {MAX_NESTING} levels")


def _schema(text: str, origin: str) -> cedarpy.Schema:
    try:
        return cedarpy.Schema.from_str(text)
    except ValueError as exc:
        raise PolicyError(f"schema for {origin} is invalid: {_first_line(exc)}") from exc


def _parse(text: str, origin: str) -> tuple[cedarpy.PolicySet, dict[str, Any]]:
    try:
        policies = cedarpy.PolicySet.from_str(text)
        est = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise PolicyError(f"cannot parse {origin}: {_first_line(exc)}") from exc
    if not isinstance(est, dict):
        raise PolicyError(f"cannot parse {origin}")
    return policies, est


def _check_ids(est: dict[str, Any], origin: str) -> None:
    if est.get("templates"):
        raise PolicyError(f"{origin}: policy templates are not supported")
    static = est.get("staticPolicies", {})
    if not static:
        raise PolicyError(f"{origin} holds no policies")
    ids = [policy.get("annotations", {}).get("id") for policy in static.values()]
    if any(not policy_id for policy_id in ids):
        position = next(index for index, policy_id in enumerate(ids) if not policy_id) + 1
        raise PolicyError(f'{origin}: policy number {position} has no @id("...") annotation')
    if duplicates := sorted({policy_id for policy_id in ids if ids.count(policy_id) > 1}):
        raise PolicyError(f"{origin}: duplicate policy @id {duplicates[0]!r}")


def _validate(text: str, schema: cedarpy.Schema, origin: str) -> None:
    result = cedarpy.validate_policies(text, schema)
    if result.validation_passed:
        return
    if not result.errors:
        raise PolicyError(f"{origin}: policies fail validation")
    names = result.id_annotations_by_policy_id
    first = result.errors[0]
    name = names.get(first.policy_id, first.policy_id)
    more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
    raise PolicyError(f"{origin}: policy {name!r} fails validation: {_first_line(first.error)}{more}")


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "unknown error"


def _literal_types(node: object) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_literal_types(item) for item in node))
    if not isinstance(node, dict):
        return set()
    found = set().union(*(_literal_types(value) for value in node.values()))
    if isinstance(node.get("type"), str) and isinstance(node.get("id"), str):
        found.add(node["type"])
    return found
