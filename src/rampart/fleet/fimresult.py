"""The "rampart.fim.result/1" document an agent uploads after a file integrity check.

`build_fim_result` writes it from a `CheckResult` (or from a refused baseline); `parse_fim_result` reads it
on the server, treating it as hostile: size, count and string caps, exact keys and types, paths as base64
of their bytes, every text free of control characters. A change's ``fingerprint`` names the state the path
is in now (SHA-256 of the after-entry's canonical encoding; empty for a removed path), so the server can
tell "the same change seen again" from "changed again" and keep an acceptance only for the state accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from rampart.errors import InventoryError
from rampart.fim.entrycodec import encode_entry
from rampart.fim.model import Cause, Change, ChangeKind, CheckResult
from rampart.fleet import fields

SCHEMA = "rampart.fim.result/1"
MAX_BYTES = 64 * 1024 * 1024
MAX_CHANGES = 100_000
MAX_ERRORS = 10_000
MAX_PATH = 4096
_TOP = {
    "schema",
    "id",
    "job_id",
    "collected_at",
    "baseline",
    "entries",
    "changes",
    "errors",
    "refused",
    "complete",
}
_BASELINE = {"created", "digest", "key_id"}
_CHANGE = {"path_b64", "change", "cause", "package", "note", "attributes", "fingerprint"}
_ATTRIBUTE = {"name", "before", "after"}


@dataclass(frozen=True)
class FimAttribute:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class FimChange:
    """One reported change: the path's bytes, what happened, why, and the state it is in now."""

    path: bytes
    change: str
    cause: str
    package: str | None
    note: str | None
    attributes: tuple[FimAttribute, ...]
    fingerprint: str


@dataclass(frozen=True)
class FimResult:
    """One parsed upload; ``refused`` holds the agent's alarm when its baseline failed verification."""

    id: str
    job_id: str | None
    collected_at: datetime
    baseline: dict[str, str]
    entries: int
    changes: tuple[FimChange, ...]
    errors: tuple[tuple[bytes, str], ...]
    refused: str | None
    sha256: str
    size: int
    complete: bool = True  # False when the agent had more changes or unreadable paths than one upload holds


def fingerprint(change: Change) -> str:
    """The state a changed path is in now: SHA-256 of its after-entry's encoding ("" once removed)."""
    return "" if change.after is None else hashlib.sha256(encode_entry(change.after)).hexdigest()


def build_fim_result(
    result: CheckResult | None,
    baseline: dict[str, str],
    result_id: str,
    job_id: str | None,
    collected_at: datetime,
    refused: str | None = None,
) -> bytes:
    """The upload: a check's changes and unreadable paths, or only the refusal when there was no check."""
    changes = result.changes[:MAX_CHANGES] if result else ()
    errors = result.errors[:MAX_ERRORS] if result else ()
    document = {
        "schema": SCHEMA,
        "id": result_id,
        "job_id": job_id,
        "collected_at": collected_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "baseline": {key: fields.safe(baseline.get(key, "")) for key in sorted(_BASELINE)},
        "entries": result.entries if result else 0,
        "changes": [_change_document(change) for change in changes],
        "errors": [{"path_b64": _b64(path), "message": fields.safe(message)} for path, message in errors],
        "refused": None if refused is None else fields.safe(refused),
        "complete": result is None
        or (len(changes), len(errors)) == (len(result.changes), len(result.errors)),
    }
    return orjson.dumps(document)


def _change_document(change: Change) -> dict[str, Any]:
    return {
        "path_b64": _b64(change.path),
        "change": change.kind.value,
        "cause": change.cause.value,
        "package": None if change.package is None else fields.safe(change.package),
        "note": None if change.note is None else fields.safe(change.note),
        "attributes": [
            {"name": a.attr.value, "before": fields.safe(a.before), "after": fields.safe(a.after)}
            for a in change.attrs
        ],
        "fingerprint": fingerprint(change),
    }


def _b64(path: bytes) -> str:
    return base64.b64encode(path[:MAX_PATH]).decode()


def parse_fim_result(data: bytes) -> FimResult:
    """Read and check an upload; `InventoryError` naming the first problem."""
    if len(data) > MAX_BYTES:
        raise InventoryError(f"fim result is larger than {MAX_BYTES} bytes")
    document = fields.load(data, SCHEMA, "fim result", _TOP)
    return FimResult(
        id=fields.uuid_text(document["id"]),
        job_id=fields.optional(document.get("job_id"), "job_id"),
        collected_at=_time(document["collected_at"]),
        baseline=_baseline(document["baseline"]),
        entries=_count(document["entries"], "entries"),
        changes=tuple(
            _change(c, n) for n, c in enumerate(fields.items(document["changes"], "changes", MAX_CHANGES))
        ),
        errors=tuple(
            _error(e, n) for n, e in enumerate(fields.items(document["errors"], "errors", MAX_ERRORS))
        ),
        refused=fields.optional(document.get("refused"), "refused"),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        complete=_flag(document["complete"], "complete"),
    )


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InventoryError(f"{where} must be true or false")
    return value


def _count(value: object, where: str) -> int:
    if type(value) is not int or value < 0:
        raise InventoryError(f"{where} must be a whole number")
    return value


def _time(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(fields.text(value, "collected_at"))
    except ValueError:
        raise InventoryError("collected_at must be an RFC 3339 time") from None
    offset = parsed.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise InventoryError("collected_at must be in UTC")
    return parsed.astimezone(UTC)


def _baseline(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InventoryError("baseline must be an object")
    fields.keys(value, _BASELINE, "baseline")
    return {key: fields.text(value[key], f"baseline.{key}") for key in sorted(_BASELINE)}


def _path(value: object, where: str) -> bytes:
    # not `fields.text`: a path's base64 is longer than fields.MAX_TEXT; validate=True refuses every non-base64 character
    if not isinstance(value, str) or len(value) > MAX_PATH * 2:
        raise InventoryError(f"{where} must be base64 of at most {MAX_PATH} bytes")
    try:
        path = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise InventoryError(f"{where} is not base64") from None
    if len(path) > MAX_PATH:
        raise InventoryError(f"{where} must be base64 of at most {MAX_PATH} bytes")
    if not path.startswith(b"/") or b"\x00" in path:
        raise InventoryError(f"{where} must be an absolute path without NUL bytes")
    return path


def _change(value: object, index: int) -> FimChange:
    where = f"changes[{index}]"
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be an object")
    fields.keys(value, _CHANGE, where)
    fingerprint_text = fields.text(value["fingerprint"], f"{where}.fingerprint")
    if not re.fullmatch(r"(?:[0-9a-f]{64})?", fingerprint_text):
        raise InventoryError(f"{where}.fingerprint must be a SHA-256 hex digest or empty")
    return FimChange(
        path=_path(value["path_b64"], f"{where}.path_b64"),
        change=fields.choice(value["change"], {k.value for k in ChangeKind}, f"{where}.change"),
        cause=fields.choice(value["cause"], {c.value for c in Cause}, f"{where}.cause"),
        package=fields.optional(value["package"], f"{where}.package"),
        note=fields.optional(value["note"], f"{where}.note"),
        attributes=tuple(
            _attribute(a, f"{where}.attributes[{n}]")
            for n, a in enumerate(fields.items(value["attributes"], f"{where}.attributes", 32))
        ),
        fingerprint=fingerprint_text,
    )


def _attribute(value: object, where: str) -> FimAttribute:
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be an object")
    fields.keys(value, _ATTRIBUTE, where)
    return FimAttribute(*(fields.text(value[k], f"{where}.{k}") for k in ("name", "before", "after")))


def _error(value: object, index: int) -> tuple[bytes, str]:
    where = f"errors[{index}]"
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be an object")
    fields.keys(value, {"path_b64", "message"}, where)
    return _path(value["path_b64"], f"{where}.path_b64"), fields.text(value["message"], f"{where}.message")
