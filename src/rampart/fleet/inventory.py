"""The "rampart.inventory/1" document an agent uploads: `build_inventory` writes it, `parse_inventory` reads it.

The server treats every upload as hostile: the payload, every string, and every list have caps;
unknown keys, wrong types, control characters and anything but an RFC 3339 UTC time are refused
with one `InventoryError` line naming the first problem.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from rampart.errors import InventoryError
from rampart.model import FileError, OsRelease, Package

SCHEMA = "rampart.inventory/1"
MAX_BYTES = 64 * 1024 * 1024
MAX_PACKAGES = 200_000
MAX_STRING = 512
MAX_NOTES = 10_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOP = {"schema", "id", "job_id", "collected_at", "os", "packages", "warnings", "errors"}
_REQUIRED = {"schema", "id", "collected_at", "packages"}
_PACKAGE_REQUIRED = ("ecosystem", "name", "version")
_PACKAGE_OPTIONAL = ("source_name", "source_version", "location", "extractor", "managed_by")
_OS_KEYS = ("id", "version_id", "pretty_name")


@dataclass(frozen=True)
class Inventory:
    """One parsed upload; ``sha256``/``size`` describe the bytes received."""

    id: str
    job_id: str | None
    collected_at: datetime
    os: OsRelease | None
    packages: tuple[Package, ...]
    warnings: tuple[str, ...]
    errors: tuple[FileError, ...]
    sha256: str
    size: int


def build_inventory(
    packages: Iterable[Package],
    os_release: OsRelease | None,
    warnings: Iterable[str],
    errors: Iterable[FileError],
    result_id: str,
    job_id: str | None,
    collected_at: datetime,
) -> bytes:
    """The upload an agent sends; free text is made safe (escaped, capped) rather than refused."""
    document = {
        "schema": SCHEMA,
        "id": result_id,
        "job_id": job_id,
        "collected_at": collected_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "os": None if os_release is None else _os_document(os_release),
        "packages": [_package_document(p) for p in packages],
        "warnings": [_safe(w) for w in list(warnings)[:MAX_NOTES]],
        "errors": [{"path": _safe(e.path), "message": _safe(e.message)} for e in list(errors)[:MAX_NOTES]],
    }
    return orjson.dumps(document)


def _os_document(os_release: OsRelease) -> dict[str, str]:
    return {
        "id": os_release.id,
        "version_id": os_release.version_id,
        "pretty_name": _safe(os_release.pretty_name),
    }


def _package_document(package: Package) -> dict[str, str | None]:
    document: dict[str, str | None] = {
        "ecosystem": package.ecosystem,
        "name": package.name,
        "version": package.version,
        "source_name": package.source_name,
        "source_version": package.source_version,
        "location": _safe(package.location),
        "extractor": package.extractor,
    }
    if package.managed_by is not None:
        document["managed_by"] = package.managed_by
    return document


def _safe(text: str) -> str:
    """Control characters escaped as ``\\xNN``, then capped at `MAX_STRING` characters."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:MAX_STRING]


def parse_inventory(data: bytes) -> Inventory:
    """Read and check an upload; `InventoryError` on the first problem."""
    if len(data) > MAX_BYTES:
        raise InventoryError(f"inventory is larger than {MAX_BYTES} bytes")
    document = _load(data)
    return Inventory(
        id=_uuid(document["id"]),
        job_id=_optional_string(document.get("job_id"), "job_id"),
        collected_at=_time(document["collected_at"]),
        os=_os(document.get("os")),
        packages=tuple(
            _package(item, n) for n, item in enumerate(_list(document["packages"], "packages", MAX_PACKAGES))
        ),
        warnings=tuple(
            _string(w, "warnings[]") for w in _list(document.get("warnings", []), "warnings", MAX_NOTES)
        ),
        errors=tuple(_file_error(e) for e in _list(document.get("errors", []), "errors", MAX_NOTES)),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def _load(data: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InventoryError("inventory is not valid UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise InventoryError("inventory must be a JSON object")
    if document.get("schema") != SCHEMA:
        raise InventoryError(f"inventory schema must be {SCHEMA!r}")
    _check_keys(document, _TOP, _REQUIRED, "inventory")
    return document


def _check_keys(obj: dict[str, Any], allowed: set[str], required: set[str], where: str) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise InventoryError(f"{where} has unknown key {_show(min(unknown))}")
    missing = required - set(obj)
    if missing:
        raise InventoryError(f"{where} lacks {min(missing)!r}")


def _show(text: str) -> str:
    return repr(_safe(text)[:64])


def _string(value: object, where: str, *, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise InventoryError(f"{where} must be a string")
    if len(value) > MAX_STRING:
        raise InventoryError(f"{where} is longer than {MAX_STRING} characters")
    if _CONTROL.search(value):
        raise InventoryError(f"{where} contains a control character")
    if not empty and not value:
        raise InventoryError(f"{where} must not be empty")
    return value


def _optional_string(value: object, where: str) -> str | None:
    return None if value is None else _string(value, where)


def _list(value: object, where: str, limit: int) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InventoryError(f"{where} must be a list")
    if len(value) > limit:
        raise InventoryError(f"{where} has more than {limit} entries")
    return value


def _uuid(value: object) -> str:
    text = _string(value, "id")
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InventoryError("id must be a UUID") from None


def _time(value: object) -> datetime:
    text = _string(value, "collected_at")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InventoryError("collected_at must be an RFC 3339 time") from None
    if parsed.utcoffset() is None or parsed.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        raise InventoryError("collected_at must be in UTC")
    return parsed.astimezone(UTC)


def _os(value: object) -> OsRelease | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InventoryError("os must be an object or null")
    _check_keys(value, set(_OS_KEYS), {"id"}, "os")
    os_id, version_id, pretty_name = (_string(value.get(k, ""), f"os.{k}") for k in _OS_KEYS)
    return OsRelease(os_id, version_id, pretty_name)


def _package(value: object, index: int) -> Package:
    where = f"packages[{index}]"
    if not isinstance(value, dict):
        raise InventoryError(f"{where} must be an object")
    _check_keys(value, {*_PACKAGE_REQUIRED, *_PACKAGE_OPTIONAL}, set(_PACKAGE_REQUIRED), where)
    ecosystem, name, version = (_string(value[k], f"{where}.{k}", empty=False) for k in _PACKAGE_REQUIRED)
    extra = {k: _optional_string(value.get(k), f"{where}.{k}") for k in _PACKAGE_OPTIONAL}
    return Package(
        name=name,
        version=version,
        ecosystem=ecosystem,
        location=extra["location"] or "",
        extractor=extra["extractor"] or "",
        source_name=extra["source_name"] or None,
        source_version=extra["source_version"] or None,
        managed_by=extra["managed_by"] or None,
    )


def _file_error(value: object) -> FileError:
    if not isinstance(value, dict):
        raise InventoryError("errors[] must be objects")
    _check_keys(value, {"path", "message"}, {"path", "message"}, "errors[]")
    return FileError(_string(value["path"], "errors[].path"), _string(value["message"], "errors[].message"))
