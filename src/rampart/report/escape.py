"""Make text from outside (package names, versions, paths, summaries) safe to show.

Control characters (C0, DEL, C1), line and paragraph separators and bidi overrides are
replaced by visible escapes, so nothing from a scanned target can move the cursor, change
colours, forge a report line or reorder what a reader sees.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """The text with every unsafe character shown as an escape, e.g. ESC -> ``\\x1b``."""
    return _UNSAFE.sub(_visible, text)


def unambiguous_text(text: str) -> str:
    """Like `safe_text`, and a backslash is doubled, so an escape shown can never be a name's own text.

    Undecodable bytes carried as surrogates (``surrogateescape``) are shown as ``\\xNN``.
    """
    return _UNAMBIGUOUS.sub(_shown, text)


_UNAMBIGUOUS = re.compile(
    "[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
)


def _shown(match: re.Match[str]) -> str:
    character = match.group()
    if character == "\\":
        return "\\\\"
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return _visible(match)


def shown_bytes(data: bytes) -> str:
    """A file name, link target or xattr name (any bytes) as unambiguous, printable text."""
    return unambiguous_text(data.decode("utf-8", "surrogateescape"))
