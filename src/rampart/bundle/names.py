"""Member names of a zip bundle turned into safe relative paths, or refused with a one-line reason."""

from __future__ import annotations

import re

from rampart.errors import ParseError

_DRIVE = re.compile(r"^[A-Za-z]:")


class BadName(ParseError):
    """A member name that cannot be a path inside the bundle (absolute, '..', backslash, NUL)."""


def safe_path(raw: str) -> str:
    """``raw`` as a POSIX path relative to the bundle root ('' for the root itself); raises BadName."""
    if "\x00" in raw:
        raise BadName("member name holds a NUL byte")
    if "\\" in raw:
        raise BadName("member name holds a backslash (a Windows path, ambiguous on Linux)")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise BadName("member name is an absolute path")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise BadName("member name climbs out with '..'")
    return "/".join(parts)


def shown(raw: str) -> str:
    """A member name fit for a one-line error location: control characters escaped, at most 200 chars."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)
    return "/" + text.lstrip("/")[:200]
