"""PAM stacks as libpam builds them: /etc/pam.d/<service> with ``@include`` (the whole file) and the ``include``
and ``substack`` controls (the named file's lines of the same type) expanded in place.

A line is ``[-]type control module [args...]``; ``control`` may be a bracketed ``[value=action ...]`` list;
backslash continuations are joined; ``[...]`` arguments keep their spaces. Loops, depth beyond 16, and garbage
lines are noted and skipped. Stacks are memoized per file (``context.memo("pam:<path>", ...)``).
Also: ``read_options`` for the key=value / bare-flag files modules read (faillock.conf, pwquality.conf, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.view import SystemView, ViewError

PAM_DIR = "/etc/pam.d"
TYPES = frozenset({"auth", "account", "password", "session"})
MAX_DEPTH = 16
MAX_NOTES = 50
_WORDS = re.compile(r"\[(?:[^\]\\]|\\.)*\]|\S+")


@dataclass(frozen=True)
class PamLine:
    type: str
    control: str
    module: str
    args: tuple[str, ...]
    where: str

    @property
    def module_name(self) -> str:
        return self.module.rsplit("/", 1)[-1]

    def arg(self, name: str) -> str | None:
        """The last ``name=value`` (value) or bare ``name`` ("") argument; None when absent."""
        found = None
        for arg in self.args:
            key, equals, value = arg.partition("=")
            if key == name:
                found = value if equals else ""
        return found


@dataclass
class PamStack:
    path: str
    present: bool = False
    lines: list[PamLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)


def _logical(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        start = start or number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        lines.append((start, (pending + raw).split("#", 1)[0].strip()))
        pending, start = "", 0
    return [(number, line) for number, line in lines if line]


class _Reader:
    def __init__(self, view: SystemView, stack: PamStack) -> None:
        self.view, self.stack, self.active = view, stack, [stack.path]

    def read(self, path: str, only: str | None) -> None:
        try:
            text = self.view.read_text(path)
        except ViewError as exc:
            self.stack.note(shown(exc.message, 200))
            return
        if text is None:
            if len(self.active) > 1:
                self.stack.note(f"{shown(path)}: included but missing")
            return
        self.stack.present = True
        for number, line in _logical(text):
            self._line(path, number, line, only)

    def _line(self, path: str, number: int, line: str, only: str | None) -> None:
        words = _WORDS.findall(line)
        where = f"{path}:{number}"
        if words[0] == "@include":
            self._nested(words[1] if len(words) > 1 else "", only, where)
            return
        kind = words[0].lstrip("-").lower()
        if len(words) < 3 or kind not in TYPES:
            self.stack.note(f"{shown(where)}: unparseable line skipped")
        elif only is None or kind == only:
            self._entry(kind, words, where)

    def _entry(self, kind: str, words: list[str], where: str) -> None:
        control = words[1].lower()
        if control in ("include", "substack"):
            self._nested(words[2], kind, where)
        else:
            self.stack.lines.append(PamLine(kind, words[1], words[2], tuple(words[3:]), where))

    def _nested(self, name: str, only: str | None, where: str) -> None:
        path = name if name.startswith("/") else f"{PAM_DIR}/{name}"
        if not name or path in self.active or len(self.active) > MAX_DEPTH:
            self.stack.note(
                f"{shown(where)}: include of {shown(name) or 'nothing'} skipped (loop, depth or empty)"
            )
            return
        self.active.append(path)
        self.read(path, only)
        self.active.pop()


def read_stack(view: SystemView, path: str) -> PamStack:
    stack = PamStack(path)
    _Reader(view, stack).read(path, None)
    return stack


def pam_stack(context: Context, path: str) -> PamStack:
    """The expanded PAM stack of ``path`` (e.g. /etc/pam.d/common-auth), parsed once per run."""
    return context.memo(f"pam:{path}", lambda: read_stack(context.view, path))


@dataclass
class Options:
    """Settings from module option files: name → (value, where); a bare word is a flag with value ""."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_options(view: SystemView, patterns: tuple[str, ...]) -> Options:
    """Every file matching ``patterns`` in order (a later assignment wins), ``key = value`` or bare ``key`` lines."""
    options = Options()
    for pattern in patterns:
        for path in view.glob(pattern) if any(char in pattern for char in "*?[") else [pattern]:
            _read_option_file(view, path, options)
    return options


def _read_option_file(view: SystemView, path: str, options: Options) -> None:
    try:
        text = view.read_text(path)
    except ViewError as exc:
        options.notes.append(shown(exc.message, 200))
        return
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        key, _, value = line.partition("=")
        if key.strip() and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            options.values[key.strip()] = (value.strip(), f"{path}:{number}")
        elif line and len(options.notes) < MAX_NOTES:
            options.notes.append(f"{shown(path)}:{number}: unparseable line skipped")


def option_file(context: Context, patterns: tuple[str, ...]) -> Options:
    return context.memo("pamopts:" + "|".join(patterns), lambda: read_options(context.view, patterns))
