"""``sudoers``: sudo's ``Defaults`` options and user specifications, read from /etc/sudoers and every file its
``#include``/``@include``/``#includedir``/``@includedir`` lines name (as sudo does: files in an included directory
are read in name order, skipping names containing ``.`` or ending in ``~``).

Either ``option`` (a global Defaults option: ``op: present`` for flags like use_pty, or a value comparison for
options like timestamp_timeout, with ``default`` when unset) or ``assert``: ``no_nopasswd`` (no rule grants
NOPASSWD) or ``no_authenticate_disabled`` (no Defaults entry negates ``authenticate``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import Line, printable
from rampart.harden.facts.values import Op, compare, describe
from rampart.harden.model import Outcome
from rampart.harden.view import SystemView, ViewError

SUDOERS = "/etc/sudoers"
MAX_DEPTH = 8
_INCLUDE = re.compile(r"^\s*[#@](include|includedir)\s+(\S.*?)\s*$")
_DEFAULTS = re.compile(r"^\s*Defaults([@:!>]\S+)?\s+(.*)$")
_OPTION = re.compile(r"^\s*(!*)\s*([A-Za-z_]+)\s*(?:([+-]?=)\s*(.*?))?\s*$")


class SudoersParams(Params):
    option: str | None = None
    op: Op = "present"
    value: Any = None
    default: Any = None
    assert_: Literal["no_nopasswd", "no_authenticate_disabled"] | None = Field(default=None, alias="assert")

    @model_validator(mode="after")
    def _one_question(self) -> SudoersParams:
        if (self.option is None) == (self.assert_ is None):
            raise ValueError("give either 'option' or 'assert'")
        return self


@dataclass(frozen=True)
class Setting:
    """One option of a Defaults line: its name, whether it is negated, its value, and whether it is global."""

    line: Line
    name: str
    negated: bool
    value: str | None
    scoped: bool


def read_lines(view: SystemView) -> tuple[list[Line], list[str]]:
    """The logical lines of the sudoers files (includes expanded in place), and notes on what was skipped."""
    lines: list[Line] = []
    notes: list[str] = []
    _read(view, SUDOERS, 0, lines, notes, set())
    return lines, notes


def _read(
    view: SystemView, path: str, depth: int, lines: list[Line], notes: list[str], seen: set[str]
) -> None:
    if depth > MAX_DEPTH or path in seen:
        notes.append(f"{printable(path)}: include loop or nesting too deep, skipped")
        return
    seen.add(path)
    try:
        text = view.read_text(path)
    except ViewError as exc:
        notes.append(f"{printable(exc.message)}, skipped")
        return
    for line in _logical(path, text or ""):
        include = _INCLUDE.match(line.text)
        if include:
            _include(view, path, include, depth, lines, notes, seen)
        elif not line.text.lstrip().startswith("#"):
            lines.append(line)


def _include(
    view: SystemView,
    path: str,
    include: re.Match[str],
    depth: int,
    lines: list[Line],
    notes: list[str],
    seen: set[str],
) -> None:
    target = include.group(2).strip('"').replace("%h", "")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if include.group(1) == "include":
        _read(view, target, depth + 1, lines, notes, seen)
        return
    for name in view.listdir(target) or []:
        if "." not in name and not name.endswith("~"):
            _read(view, f"{target}/{name}", depth + 1, lines, notes, seen)


def _logical(path: str, text: str) -> list[Line]:
    """Lines with continuations joined; comments are kept (an include line starts with '#')."""
    found: list[Line] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        start = start if pending else number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line, pending = pending + raw, ""
        if line.strip():
            found.append(Line(path, start, line))
    return found


def settings(lines: list[Line]) -> list[Setting]:
    found: list[Setting] = []
    for line in lines:
        match = _DEFAULTS.match(_uncomment(line.text))
        if match:
            found.extend(_options(line, match.group(2), bool(match.group(1))))
    return found


def _uncomment(text: str) -> str:
    return re.sub(r"(?<!\\)#.*$", "", text)


def _options(line: Line, text: str, scoped: bool) -> list[Setting]:
    found = []
    for part in _split_commas(text):
        option = _OPTION.match(part)
        if option:
            value = option.group(4).strip('"') if option.group(3) else None
            found.append(Setting(line, option.group(2), len(option.group(1)) % 2 == 1, value, scoped))
    return found


def _split_commas(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def evaluate(params: SudoersParams, context: Context) -> Outcome:
    if context.view.stat(SUDOERS) is None:
        return Outcome.not_applicable(f"{SUDOERS}: not present (sudo is not configured)")
    lines, notes = context.memo("sudoers", lambda: read_lines(context.view))
    if params.assert_ == "no_nopasswd":
        return _no_nopasswd(lines, notes)
    if params.assert_ == "no_authenticate_disabled":
        return _no_authenticate_disabled(lines, notes)
    return _option(params, settings(lines), notes)


def _no_nopasswd(lines: list[Line], notes: list[str]) -> Outcome:
    bad = [line for line in lines if "NOPASSWD" in _uncomment(line.text) and not _DEFAULTS.match(line.text)]
    if bad:
        return Outcome.failed(*(f"{line.where}: {printable(line.text)}" for line in bad[:10]), *notes)
    return Outcome.passed("no sudo rule grants NOPASSWD", *notes)


def _no_authenticate_disabled(lines: list[Line], notes: list[str]) -> Outcome:
    bad = [s for s in settings(lines) if s.name == "authenticate" and s.negated]
    if bad:
        return Outcome.failed(*(f"{s.line.where}: {printable(s.line.text)}" for s in bad[:10]), *notes)
    return Outcome.passed("no Defaults entry disables authentication", *notes)


def _option(params: SudoersParams, found: list[Setting], notes: list[str]) -> Outcome:
    name = str(params.option)
    scoped = [f"(scoped, not counted: {s.line.where})" for s in found if s.name == name and s.scoped]
    mine = [s for s in found if s.name == name and not s.scoped]
    if not mine:
        return _unset(params, name, [*scoped, *notes])
    last = mine[-1]
    shown = f"{last.line.where}: {'!' if last.negated else ''}{name}" + (
        f"={printable(last.value)}" if last.value else ""
    )
    return _judge(params, last, shown, [*scoped, *notes])


def _judge(params: SudoersParams, last: Setting, shown: str, extra: list[str]) -> Outcome:
    if params.op in ("present", "absent"):
        on = not last.negated
        return (
            Outcome.passed(shown, *extra) if on == (params.op == "present") else Outcome.failed(shown, *extra)
        )
    if last.value is None or last.negated:
        return Outcome.failed(f"{shown} (expected a value {describe(params.op, params.value)})", *extra)
    if compare(last.value, params.op, params.value):
        return Outcome.passed(shown, *extra)
    return Outcome.failed(f"{shown} (expected {describe(params.op, params.value)})", *extra)


def _unset(params: SudoersParams, name: str, extra: list[str]) -> Outcome:
    line = f"Defaults {name} not set globally"
    if params.op == "absent":
        return Outcome.passed(line, *extra)
    if params.default is not None and params.op != "present":
        shown = f"{line}; sudo default {printable(str(params.default))}"
        if compare(str(params.default), params.op, params.value):
            return Outcome.passed(shown, *extra)
        return Outcome.failed(f"{shown} (expected {describe(params.op, params.value)})", *extra)
    return Outcome.failed(line, *extra)


CHECK = CheckType(
    "sudoers", SudoersParams, evaluate, "sudo Defaults options and NOPASSWD/!authenticate rules"
)
