"""OSV records -> model types: the one place that knows the OSV JSON schema.

``load_record`` turns the bytes of one OSV JSON or YAML record into an `Advisory`, or raises
`RecordError` carrying a short, countable reason ("not JSON", "missing id", "wrong types", ...).
Everything the matcher does not need (details, references, credits, ...) is dropped here.
Valid OSV that rampart cannot use (an ``affected`` entry without a package, e.g. GIT-only
entries) is skipped silently; data of the wrong shape rejects the whole record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rampart.model import Advisory, Affected, Event, Range, SeverityScore

MAX_RECORD_BYTES = 5 * 1024 * 1024
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
SUMMARY_CHARS = 200

NOT_JSON = "not JSON"
NOT_YAML = "not YAML"
NOT_OBJECT = "not an object"
MISSING_ID = "missing id"
MISSING_MODIFIED = "missing modified"
WRONG_TYPES = "wrong types"
TOO_LARGE = "too large"


class RecordError(Exception):
    """One record cannot be used; ``reason`` is a short label that import summaries count."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def load_record(raw: bytes, fmt: str = "json") -> Advisory:
    """Decode one record (``fmt`` is ``json`` or ``yaml``) and parse it."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(TOO_LARGE, f"{len(raw)} bytes")
    data = _decode_yaml(raw) if fmt == "yaml" else _decode_json(raw)
    return parse_record(data)


def _decode_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise RecordError(NOT_JSON, str(error)[:100]) from None


def _decode_yaml(raw: bytes) -> object:
    from rampart.advisories.yamlsafe import YamlRejected, load_yaml

    try:
        return load_yaml(raw)
    except YamlRejected as error:
        raise RecordError(NOT_YAML, str(error)[:100]) from None


def parse_record(data: object) -> Advisory:
    """An OSV record (already decoded) as an `Advisory`; raises `RecordError` when unusable."""
    if not isinstance(data, dict):
        raise RecordError(NOT_OBJECT, type(data).__name__)
    record_id, modified = data.get("id"), data.get("modified")
    if not isinstance(record_id, str) or not record_id.strip():
        raise RecordError(MISSING_ID if record_id in (None, "") else WRONG_TYPES, "id")
    if not isinstance(modified, str) or not modified:
        raise RecordError(MISSING_MODIFIED if modified in (None, "") else WRONG_TYPES, "modified")
    affected = tuple(a for a in (_affected(e) for e in _list(data, "affected")) if a is not None)
    return Advisory(
        id=record_id.strip(),
        modified=modified,
        aliases=_strings(data, "aliases"),
        related=_strings(data, "related"),
        summary=_summary(data),
        withdrawn=_optional_str(data, "withdrawn"),
        severity=_severity(data),
        rating=_rating(data),
        affected=affected,
    )


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(WRONG_TYPES, key)
    return value


def _strings(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _list(obj, key)
    if not all(isinstance(v, str) for v in values):
        raise RecordError(WRONG_TYPES, key)
    return tuple(values)


def _optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordError(WRONG_TYPES, key)
    return value


def _mapping(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A vendor-specific object; anything that is not an object counts as absent."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _summary(data: Mapping[str, Any]) -> str:
    summary = _optional_str(data, "summary") or ""
    if summary.strip():
        return summary.strip()
    details = _optional_str(data, "details") or ""
    first = details.strip().split("\n", 1)[0].strip()
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1] + "…"


def _severity(obj: Mapping[str, Any]) -> tuple[SeverityScore, ...]:
    scores = []
    for entry in _list(obj, "severity"):
        if not isinstance(entry, dict):
            raise RecordError(WRONG_TYPES, "severity")
        kind, score = entry.get("type"), entry.get("score")
        if not isinstance(kind, str) or not isinstance(score, str):
            raise RecordError(WRONG_TYPES, "severity")
        scores.append(SeverityScore(kind, score))
    return tuple(scores)


def _rating(data: Mapping[str, Any]) -> str | None:
    """The first qualitative rating found: record, then each affected entry's vendor fields."""
    places = [_mapping(data, "database_specific")]
    for entry in _list(data, "affected"):
        if isinstance(entry, dict):
            places += [_mapping(entry, "database_specific"), _mapping(entry, "ecosystem_specific")]
    for place in places:
        value = place.get("severity")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _affected(entry: object) -> Affected | None:
    if not isinstance(entry, dict):
        raise RecordError(WRONG_TYPES, "affected")
    package = entry.get("package")
    if package is None:
        return None
    if not isinstance(package, dict):
        raise RecordError(WRONG_TYPES, "affected.package")
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str) or not ecosystem or not name:
        raise RecordError(WRONG_TYPES, "affected.package")
    status = _mapping(entry, "ecosystem_specific").get("status")
    return Affected(
        ecosystem=ecosystem,
        name=name,
        ranges=tuple(_range(r) for r in _list(entry, "ranges")),
        versions=_strings(entry, "versions"),
        severity=_severity(entry),
        status=status if isinstance(status, str) else None,
    )


def _range(entry: object) -> Range:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise RecordError(WRONG_TYPES, "affected.ranges")
    return Range(type=entry["type"], events=tuple(_event(e) for e in _list(entry, "events")))


def _event(entry: object) -> Event:
    if not isinstance(entry, dict):
        raise RecordError(WRONG_TYPES, "affected.ranges.events")
    for kind in EVENT_KINDS:
        if kind in entry:
            version = entry[kind]
            if not isinstance(version, str):
                raise RecordError(WRONG_TYPES, f"affected.ranges.events.{kind}")
            return Event(kind, version)
    raise RecordError(WRONG_TYPES, "affected.ranges.events")
