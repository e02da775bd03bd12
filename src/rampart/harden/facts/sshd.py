"""The effective sshd configuration, as sshd reads it: /etc/ssh/sshd_config with ``Include`` expanded.

``Include`` takes globs, relative ones to /etc/ssh, expanded in sorted order and read where the directive
stands; the FIRST value of a keyword wins; keywords are case-insensitive; ``keyword=value`` is accepted;
settings inside a ``Match`` block (to the end of its file) do not change the global value and are only noted.
Include loops, depth beyond 16, unreadable or oversized files are noted and skipped. Links resolve inside the
target (the view guarantees it), so an Include can never read the scanning machine's files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.view import SystemView, ViewError

SSHD_CONFIG = "/etc/ssh/sshd_config"
MAX_DEPTH = 16
MAX_NOTES = 50
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*?)\s*$")


@dataclass(frozen=True)
class Setting:
    value: str
    where: str


@dataclass
class SshdConfig:
    """First global value per lowercase keyword, later (ignored) assignments, Match-block settings, notes."""

    present: bool = False
    settings: dict[str, Setting] = field(default_factory=dict)
    ignored: dict[str, list[str]] = field(default_factory=dict)
    matched: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)


def _unquote(text: str) -> str:
    return " ".join(
        word[1:-1] if len(word) > 1 and word[0] == word[-1] == '"' else word for word in text.split()
    )


class _Reader:
    def __init__(self, view: SystemView) -> None:
        self.view = view
        self.config = SshdConfig()
        self.stack: list[str] = []

    def read(self, path: str, in_match: bool = False) -> None:
        if path in self.stack:
            self.config.note(f"{shown(path)}: Include loop, not read again")
            return
        if len(self.stack) >= MAX_DEPTH:
            self.config.note(f"{shown(path)}: Include nested deeper than {MAX_DEPTH}, not read")
            return
        text = self._text(path)
        if text is None:
            return
        self.stack.append(path)
        self.config.files.append(path)
        self._lines(path, text, in_match)
        self.stack.pop()

    def _text(self, path: str) -> str | None:
        try:
            text = self.view.read_text(path)
        except ViewError as exc:
            self.config.note(shown(exc.message, 200))
            return None
        if text is None and self.stack:
            self.config.note(f"{shown(path)}: included but missing")
        return text

    def _lines(self, path: str, text: str, in_match: bool) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parsed = _LINE.match(line)
            if parsed is None:
                self.config.note(f"{shown(path)}:{number}: unparseable line skipped")
                continue
            keyword, value = parsed.group(1).lower(), _unquote(parsed.group(2))
            in_match = in_match or keyword == "match"
            self._directive(keyword, value, f"{path}:{number}", in_match)

    def _directive(self, keyword: str, value: str, where: str, in_match: bool) -> None:
        if keyword == "include":
            for pattern in value.split():
                self._include(pattern, in_match)
        elif in_match:
            self.config.matched.setdefault(keyword, []).append(where)
        elif keyword in self.config.settings:
            self.config.ignored.setdefault(keyword, []).append(where)
        else:
            self.config.settings[keyword] = Setting(value, where)

    def _include(self, pattern: str, in_match: bool) -> None:
        absolute = pattern if pattern.startswith("/") else "/etc/ssh/" + pattern
        try:
            paths = self.view.glob(absolute) if any(char in absolute for char in "*?[") else [absolute]
        except ViewError as exc:
            self.config.note(shown(exc.message, 200))
            return
        for path in paths:
            self.read(path, in_match)


def read_sshd(view: SystemView, path: str = SSHD_CONFIG) -> SshdConfig:
    reader = _Reader(view)
    reader.read(path)
    reader.config.present = bool(reader.config.files)
    return reader.config


def sshd_config(context: Context) -> SshdConfig:
    """The effective sshd configuration of the target, parsed once per run."""
    return context.memo("sshd", lambda: read_sshd(context.view))


def parse_sshd_t(text: str) -> dict[str, str]:
    """``sshd -T`` output (lowercase keyword, value): the first value per keyword."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        keyword, _, value = line.strip().partition(" ")
        if keyword and keyword not in values:
            values[keyword.lower()] = value.strip()
    return values
