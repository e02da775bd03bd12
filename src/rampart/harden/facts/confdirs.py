"""systemd-style configuration directories: ``*.conf`` files gathered from several directories, where a file in
an earlier directory hides a file of the same name in a later one, and the survivors are read in name order."""

from __future__ import annotations

import fnmatch

from rampart.harden.view import SystemView


def overlay(view: SystemView, directories: tuple[str, ...], pattern: str = "*.conf") -> list[str]:
    """The effective files of ``directories`` (highest precedence first), in the order they apply."""
    chosen: dict[str, str] = {}
    for directory in directories:
        for name in view.listdir(directory) or []:
            if fnmatch.fnmatch(name, pattern) and not name.startswith("."):
                chosen.setdefault(name, f"{directory}/{name}")
    return [chosen[name] for name in sorted(chosen) if not _masked(view, chosen[name])]


def _masked(view: SystemView, path: str) -> bool:
    entry = view.stat(path, follow=False)
    return entry is not None and entry.kind == "link" and entry.target == "/dev/null"


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each line with backslash continuations joined."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        lines.append((start, pending + raw))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines
