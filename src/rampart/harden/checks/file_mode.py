"""``file_mode``: a file's permission bits are this mode or stricter, and its owner and group are among the allowed.

``path`` may be a glob (every match is checked); with ``recursive`` every entry below a directory is checked
too (links are never followed); then ``kind``, ``match`` and ``exclude`` (basename globs) select which entries
are judged, and ``dir_mode`` applies to directories.
Owner and group names resolve through the target's own /etc/passwd and /etc/group. A final link is followed
inside the target; a dangling one counts as missing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import Field, field_validator

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import printable
from rampart.harden.facts.names import Names, names
from rampart.harden.model import Outcome
from rampart.harden.view import Stat

MAX_ENTRIES = 200_000
MAX_SHOWN = 20


def parse_mode(text: str) -> int:
    """An octal mode string (``"0640"``, ``"640"``) as an int; ValueError otherwise."""
    if not 1 <= len(text) <= 5 or any(char not in "01234567" for char in text):
        raise ValueError(f"mode {text!r} is not an octal mode like 0640")
    return int(text, 8) & 0o7777


class FileModeParams(Params):
    path: str
    mode: str = "0777"
    owner: list[str | int] | None = None
    group: list[str | int] | None = None
    kind: Literal["file", "dir", "any"] = "any"
    missing: Literal["na", "pass", "fail"] = "na"
    recursive: bool = False
    match: str = "*"
    exclude: list[str] = Field(default_factory=list)
    dir_mode: str | None = None

    @field_validator("mode", "dir_mode")
    @classmethod
    def _octal(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mode(value)
        return value


def problems(entry: Stat, allowed: int, params: FileModeParams, table: Names) -> list[str]:
    """What is wrong with one entry (empty when it is fine)."""
    found: list[str] = []
    if entry.mode & ~allowed:
        found.append(f"mode {entry.mode:04o} (allowed at most {allowed:04o})")
    if params.owner is not None and entry.uid not in _ids(params.owner, table.uid):
        found.append(f"owner {table.user_name(entry.uid)} (allowed {_names(params.owner)})")
    if params.group is not None and entry.gid not in _ids(params.group, table.gid):
        found.append(f"group {table.group_name(entry.gid)} (allowed {_names(params.group)})")
    return found


def _ids(specs: list[str | int], resolve: Callable[[str | int], int | None]) -> set[int]:
    return {ident for ident in (resolve(spec) for spec in specs) if ident is not None}


def _names(specs: list[str | int]) -> str:
    return ", ".join(str(spec) for spec in specs)


def _describe(entry: Stat, table: Names) -> str:
    return f"mode {entry.mode:04o}, owner {table.user_name(entry.uid)}, group {table.group_name(entry.gid)}"


def _entries(params: FileModeParams, context: Context) -> Iterator[tuple[str, Stat | None]]:
    """(path, entry) for every match (None for a dangling link), and with ``recursive`` every entry below."""
    for path in context.view.glob(params.path):
        entry = context.view.stat(path)
        yield path, entry
        if params.recursive and entry is not None and entry.kind == "dir":
            yield from _below(path, context)


def _below(top: str, context: Context) -> Iterator[tuple[str, Stat | None]]:
    pending, count = [top], 0
    while pending and count < MAX_ENTRIES:
        directory = pending.pop()
        for name in context.view.listdir(directory) or []:
            count += 1
            path = f"{directory.rstrip('/')}/{name}"
            entry = context.view.stat(path, follow=False)
            if entry is None or entry.kind == "link":
                continue
            if entry.kind == "dir":
                pending.append(path)
            yield path, entry


def _selected(path: str, entry: Stat, params: FileModeParams) -> bool:
    """With ``recursive``, only entries of the wanted kind whose basename fits match/exclude are judged."""
    if not params.recursive:
        return True
    name = path.rstrip("/").rsplit("/", 1)[-1] or "/"
    if params.kind != "any" and entry.kind != params.kind:
        return False
    return fnmatch.fnmatch(name, params.match) and not any(fnmatch.fnmatch(name, ex) for ex in params.exclude)


def _judge(path: str, entry: Stat, params: FileModeParams, table: Names) -> list[str]:
    shown = printable(path)
    if params.kind != "any" and entry.kind != params.kind:
        return [f"{shown}: is a {entry.kind}, expected a {params.kind}"]
    mode = params.dir_mode if entry.kind == "dir" and params.dir_mode else params.mode
    return [f"{shown}: {problem}" for problem in problems(entry, parse_mode(mode), params, table)]


def evaluate(params: FileModeParams, context: Context) -> Outcome:
    table = names(context)
    present = [(path, entry) for path, entry in _entries(params, context) if entry is not None]
    if not present:
        return _missing(params)
    checked = [(path, entry) for path, entry in present if _selected(path, entry, params)]
    if not checked:
        return Outcome.passed(f"{printable(params.path)}: no entry matching {printable(params.match)}")
    failures = [line for path, entry in checked for line in _judge(path, entry, params, table)]
    if failures:
        extra = [f"... and {len(failures) - MAX_SHOWN} more"] if len(failures) > MAX_SHOWN else []
        return Outcome.failed(*failures[:MAX_SHOWN], *extra)
    shown = [f"{printable(path)}: {_describe(entry, table)}" for path, entry in checked[:MAX_SHOWN]]
    extra = [f"... and {len(checked) - MAX_SHOWN} more entries, all fine"] if len(checked) > MAX_SHOWN else []
    return Outcome.passed(*shown, *extra)


def _missing(params: FileModeParams) -> Outcome:
    line = f"{printable(params.path)}: not present"
    if params.missing == "pass":
        return Outcome.passed(line)
    if params.missing == "fail":
        return Outcome.failed(line)
    return Outcome.not_applicable(line)


CHECK = CheckType(
    "file_mode", FileModeParams, evaluate, "permission bits this or stricter, owner and group allowed"
)
