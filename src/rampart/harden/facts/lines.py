"""Reading configuration text as checks see it: logical lines (backslash continuations joined, ``#`` comments
stripped), files gathered from a list of globs in order, and text made safe to show in evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rampart.harden.view import SystemView, ViewError

_COMMENT = re.compile(r"(?:^|(?<=\s))#.*$")
MAX_SHOWN = 120


@dataclass(frozen=True)
class Line:
    """One logical line: the file, the number of its first physical line, and its text."""

    path: str
    number: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.number}"


def logical_lines(path: str, text: str, strip_comments: bool = True) -> list[Line]:
    """The non-blank logical lines of ``text``; with ``strip_comments`` a ``#`` at a word start ends the line."""
    found: list[Line] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        start = start if pending else number
        if raw.endswith("\\") and not (strip_comments and _COMMENT.search(raw)):
            pending += raw[:-1]
            continue
        line = pending + raw
        pending = ""
        line = _COMMENT.sub("", line) if strip_comments else line
        if line.strip():
            found.append(Line(path, start, line))
    if pending.strip():
        found.append(Line(path, start, pending))
    return found


def expand(view: SystemView, patterns: list[str]) -> list[str]:
    """Every path the globs name, in the order given (each glob's matches sorted), without repeats."""
    seen: list[str] = []
    for pattern in patterns:
        for path in view.glob(pattern):
            if path not in seen:
                seen.append(path)
    return seen


@dataclass(frozen=True)
class Gathered:
    """Files read (path, text) in order, directories skipped, and files that could not be read (path: why)."""

    texts: list[tuple[str, str]]
    unreadable: list[str]


def gather(view: SystemView, patterns: list[str]) -> Gathered:
    texts: list[tuple[str, str]] = []
    unreadable: list[str] = []
    for path in expand(view, patterns):
        entry = view.stat(path)
        if entry is not None and entry.kind == "dir":
            continue
        try:
            text = view.read_text(path)
        except ViewError as exc:
            unreadable.append(printable(exc.message))
            continue
        if text is not None:
            texts.append((path, text))
    return Gathered(texts, unreadable)


def printable(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` stripped and cut to ``limit`` characters (reporters escape what they print)."""
    shown = text.strip()
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
