"""Loading an SBOM file: size cap, JSON decoding (nesting capped by the decoder), one-line errors.

Whole-document problems raise ``SbomError`` (a TargetError: the SBOM is the scan target and cannot be read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.errors import TargetError
from rampart.jsonfile import load_json_file

MAX_SBOM_BYTES = 256 * 1024 * 1024
MAX_COMPONENTS = 1_000_000
MAX_DEPTH = 64


class SbomError(TargetError):
    """An SBOM document cannot be used at all (unreadable, not JSON, wrong format or version, too large)."""


def load_json(path: Path) -> dict[str, Any]:
    """The top-level JSON object of ``path``; SbomError when it is missing, too large or not a JSON object."""
    document = load_json_file(path, MAX_SBOM_BYTES, SbomError, "SBOM")
    if not isinstance(document, dict):
        raise SbomError(f"{path}: expected a JSON object at the top level")
    return document


def text_field(item: dict[str, Any], key: str) -> str | None:
    """``item[key]`` when it is a non-empty string, else None."""
    value = item.get(key)
    return value if isinstance(value, str) and value else None


def printable(text: str, limit: int = 120) -> str:
    """A name from the document made safe for a one-line message: control characters escaped, length capped."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
