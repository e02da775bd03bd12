"""``config_value``: a key of a key/value configuration file (login.defs, journald.conf, useradd, ...) compared
with what a rule expects.

``paths`` are read in the order they override (the main file, then drop-in globs); ``precedence`` says which
assignment wins. ``section`` limits keys to one ``[Section]`` of INI-style files. An unset key takes ``default``
(the program's documented default) when given, else ``missing`` decides (fail, pass or na).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import Line, gather, logical_lines, printable
from rampart.harden.facts.values import Op, compare, describe
from rampart.harden.model import Outcome

_SECTION = re.compile(r"^\s*\[([^\]]*)\]\s*$")


class ConfigValueParams(Params):
    paths: list[str]
    key: str
    separator: Literal["=", "whitespace", ":"] = "="
    op: Op = "eq"
    value: Any = None
    numeric: bool | None = None
    precedence: Literal["last", "first"] = "last"
    section: str | None = None
    ignore_case_key: bool = False
    missing: Literal["fail", "pass", "na"] = "fail"
    default: Any = None
    strip_quotes: bool = True


@dataclass(frozen=True)
class Assignment:
    line: Line
    value: str


def split_line(text: str, separator: str) -> tuple[str, str] | None:
    """(key, value) of one line, None when the line has no separator."""
    if separator == "whitespace":
        parts = text.strip().split(None, 1)
        return (parts[0], parts[1] if len(parts) > 1 else "") if parts else None
    key, found, value = text.partition(separator)
    return (key.strip(), value.strip()) if found else None


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def assignments(params: ConfigValueParams, texts: list[tuple[str, str]]) -> list[Assignment]:
    """Every assignment of the key, in file order."""
    found: list[Assignment] = []
    for path, text in texts:
        section = None
        for line in logical_lines(path, text):
            header = _SECTION.match(line.text)
            if header:
                section = header.group(1).strip()
                continue
            if params.section is not None and section != params.section:
                continue
            pair = split_line(line.text, params.separator)
            if pair and _same_key(pair[0], params):
                found.append(Assignment(line, unquote(pair[1]) if params.strip_quotes else pair[1].strip()))
    return found


def _same_key(key: str, params: ConfigValueParams) -> bool:
    return key.lower() == params.key.lower() if params.ignore_case_key else key == params.key


def evaluate(params: ConfigValueParams, context: Context) -> Outcome:
    gathered = gather(context.view, params.paths)
    if gathered.unreadable:
        return Outcome.errored(gathered.unreadable[0], *gathered.unreadable[1:])
    found = assignments(params, gathered.texts)
    key = printable(params.key)
    if not found:
        return _unset(params, key, [path for path, _ in gathered.texts])
    winner = found[-1] if params.precedence == "last" else found[0]
    shown = f"{winner.line.where}: {key} = {printable(winner.value)}"
    others = [f"(overridden: {a.line.where}: {printable(a.value)})" for a in found if a is not winner][:5]
    if params.op == "absent":
        return Outcome.failed(f"{shown} (should be unset)", *others)
    if compare(winner.value, params.op, params.value, params.numeric):
        return Outcome.passed(shown, *others)
    return Outcome.failed(f"{shown} (expected {describe(params.op, params.value)})", *others)


def _unset(params: ConfigValueParams, key: str, read: list[str]) -> Outcome:
    where = ", ".join(printable(path) for path in read[:5]) or "no file present"
    line = f"{key} not set ({where})"
    if params.op == "absent":
        return Outcome.passed(line)
    if params.default is not None:
        value = str(params.default)
        shown = f"{line}; program default {printable(value)}"
        if compare(value, params.op, params.value, params.numeric):
            return Outcome.passed(shown)
        return Outcome.failed(f"{shown} (expected {describe(params.op, params.value)})")
    if params.missing == "pass":
        return Outcome.passed(line)
    if params.missing == "na":
        return Outcome.not_applicable(line)
    return Outcome.failed(line)


CHECK = CheckType(
    "config_value", ConfigValueParams, evaluate, "a key's effective value in key/value configuration files"
)
