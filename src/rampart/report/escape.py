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
