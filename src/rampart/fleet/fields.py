"""Strict field readers shared by the agent upload schemas (fim and harden results): each checks one field and
raises InventoryError with a one-line message naming it; ``safe`` is what agents use to make text acceptable."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from rampart.errors import InventoryError

MAX_TEXT = 512
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(text: str, limit: int = MAX_TEXT) -> str:
    """Control characters escaped as ``\\xNN``, then capped (agents make text safe, never refuse it)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def shown(text: object) -> str:
    return repr(safe(str(text))[:64])


def text(value: object, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InventoryError(f"{where} must be a string")
    if len(value) > limit:
        raise InventoryError(f"{where} is longer than {limit} characters")
    if CONTROL.search(value):
        raise InventoryError(f"{where} contains a control character")
    return value


def optional(value: object, where: str) -> str | None:
    return None if value is None else text(value, where)


def choice(value: object, allowed: Collection[str], where: str) -> str:
    found = text(value, where)
    if found not in allowed:
        raise InventoryError(f"{where} must be one of {', '.join(sorted(allowed))}")
    return found


def keys(obj: dict[str, Any], expected: set[str], where: str) -> None:
    if set(obj) != expected:
        odd = sorted(set(obj) ^ expected)[0]
        raise InventoryError(f"{where} has an unknown or missing key {shown(odd)}")


def items(value: object, where: str, limit: int) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InventoryError(f"{where} must be a list")
    if len(value) > limit:
        raise InventoryError(f"{where} has more than {limit} entries")
    return value


def uuid_text(value: object) -> str:
    try:
        return str(uuid.UUID(text(value, "id")))
    except ValueError:
        raise InventoryError("id must be a UUID") from None


def load(data: bytes, schema: str, name: str, top: set[str]) -> dict[str, Any]:
    """The document's object, once it is JSON, names ``schema`` and has exactly the ``top`` keys."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InventoryError(f"{name} is not valid UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("schema") != schema:
        raise InventoryError(f"{name} must be a {schema!r} object")
    keys(document, top, name)
    return document
