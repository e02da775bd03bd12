"""Reading ``etc/os-release`` (falling back to ``usr/lib/os-release``) into an OsRelease.

The format is shell-like ``KEY=value`` lines; values may be quoted with ' or " and use backslash escapes.
Comments, blank lines and lines that are not assignments are ignored; a value that does not parse as a
shell word is dropped. A file larger than ``MAX_SIZE`` is refused as a per-file error.
"""

from __future__ import annotations

import re
import shlex

from rampart.errors import ParseError
from rampart.model import FileError, OsRelease
from rampart.target.base import Target
from rampart.target.directory import describe_os_error

PATHS = ("etc/os-release", "usr/lib/os-release")
MAX_SIZE = 64 * 1024
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def _value(raw: str) -> str | None:
    try:
        words = shlex.split(raw, comments=False, posix=True)
    except ValueError:
        return None
    return " ".join(words)


def parse_fields(text: str) -> dict[str, str]:
    """The ``KEY=value`` assignments of an os-release text, garbage lines skipped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line.strip())
        value = _value(match.group(2)) if match else None
        if match and value is not None:
            fields[match.group(1)] = value
    return fields


def parse_os_release(text: str) -> OsRelease:
    """The OsRelease an os-release text describes (``ID`` defaults to ``linux`` as the spec says)."""
    fields = parse_fields(text)
    return OsRelease(
        id=fields.get("ID", "linux").strip().lower() or "linux",
        version_id=fields.get("VERSION_ID", "").strip(),
        pretty_name=fields.get("PRETTY_NAME", ""),
        id_like=tuple(fields.get("ID_LIKE", "").lower().split()),
        version_codename=fields.get("VERSION_CODENAME", "").strip(),
    )


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ParseError("os-release holds binary data")
    return data.decode("utf-8", errors="replace")


def read_os_release(target: Target) -> tuple[OsRelease | None, list[FileError]]:
    """The target's OsRelease from the first os-release file present, and any error reading it."""
    for path in PATHS:
        try:
            return parse_os_release(_decode(target.read_bytes(path, MAX_SIZE))), []
        except FileNotFoundError:
            continue
        except ParseError as exc:
            return None, [FileError("/" + path, exc.message)]
        except OSError as exc:
            return None, [FileError("/" + path, describe_os_error(exc))]
    return None, []
