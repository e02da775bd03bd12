"""Strict reading of JSON the server sent: a wrong shape becomes one clear ApiError, never a KeyError.

`Reader` wraps one JSON object and hands out typed fields; every failure names the object and field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rampart.errors import ApiError

MAX_TEXT = 64 * 1024


def bad_shape(what: str, problem: str) -> ApiError:
    """The error for a response that does not have the shape the API promises."""
    return ApiError(0, f"server sent an unexpected response: {what} {problem}")


def as_object(value: object, what: str) -> Reader:
    """A Reader over ``value``, which must be a JSON object."""
    if not isinstance(value, dict):
        raise bad_shape(what, "is not a JSON object")
    return Reader(value, what)


def as_list(value: object, what: str) -> list[Any]:
    """``value``, which must be a JSON array."""
    if not isinstance(value, list):
        raise bad_shape(what, "is not a JSON array")
    return value


class Reader:
    """Typed access to the fields of one JSON object."""

    def __init__(self, data: dict[str, Any], what: str) -> None:
        self.data = data
        self.what = what

    def _raw(self, key: str, *, optional: bool) -> Any:
        if key not in self.data and not optional:
            raise bad_shape(self.what, f"lacks field {key!r}")
        return self.data.get(key)

    def _fail(self, key: str, kind: str) -> ApiError:
        return bad_shape(f"{self.what}.{key}", f"is not {kind}")

    def text(self, key: str) -> str:
        value = self._raw(key, optional=False)
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._raw(key, optional=True)
        return None if value is None else self.text(key)

    def integer(self, key: str) -> int:
        value = self._raw(key, optional=False)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def number(self, key: str) -> float:
        value = self._raw(key, optional=False)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        return float(value)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._raw(key, optional=default is not None)
        value = default if value is None else value
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def texts(self, key: str, *, optional: bool = False) -> tuple[str, ...]:
        value = self._raw(key, optional=optional)
        if value is None and optional:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def tags(self, key: str) -> dict[str, str]:
        value = self._raw(key, optional=True)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, "an object of strings")
        return dict(value)

    def counts(self, key: str) -> dict[str, int]:
        value = self._raw(key, optional=False)
        if not isinstance(value, dict) or not all(_is_int(v) for v in value.values()):
            raise self._fail(key, "an object of counts")
        return dict(value)

    def obj(self, key: str) -> Reader:
        return as_object(self._raw(key, optional=False), f"{self.what}.{key}")

    def opt_obj(self, key: str) -> Reader | None:
        value = self._raw(key, optional=True)
        return None if value is None else as_object(value, f"{self.what}.{key}")

    def time(self, key: str) -> datetime:
        return _parse_time(self.text(key), f"{self.what}.{key}")

    def opt_time(self, key: str) -> datetime | None:
        value = self.opt_text(key)
        return None if value is None else _parse_time(value, f"{self.what}.{key}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_time(text: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise bad_shape(what, "is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
