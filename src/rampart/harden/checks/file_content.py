"""``file_content``: a regular expression is present in, absent from, or matched by every line of a set of files.

``paths`` are globs read in order (drop-in directories included); lines are logical lines with ``#`` comments
stripped unless ``raw``. A file that cannot be read (a FIFO, a device, too large) is an error: a check must not
pass on content it never saw. Directories matched by a glob are skipped.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import Line, gather, logical_lines, printable
from rampart.harden.model import Outcome

MAX_SHOWN = 10


class FileContentParams(Params):
    paths: list[str]
    pattern: str
    expect: Literal["present", "absent", "all_lines_match"] = "present"
    missing: Literal["na", "pass", "fail"] = "fail"
    ignore_case: bool = False
    raw: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


def _lines(params: FileContentParams, texts: list[tuple[str, str]]) -> list[Line]:
    return [line for path, text in texts for line in logical_lines(path, text, not params.raw)]


def _shown(lines: list[Line]) -> list[str]:
    extra = [f"... and {len(lines) - MAX_SHOWN} more lines"] if len(lines) > MAX_SHOWN else []
    return [f"{line.where}: {printable(line.text)}" for line in lines[:MAX_SHOWN]] + extra


def evaluate(params: FileContentParams, context: Context) -> Outcome:
    gathered = gather(context.view, params.paths)
    if gathered.unreadable:
        return Outcome.errored(gathered.unreadable[0], *gathered.unreadable[1:])
    if not gathered.texts:
        return _missing(params)
    flags = re.MULTILINE | (re.IGNORECASE if params.ignore_case else 0)
    regex = re.compile(params.pattern, flags)
    lines = _lines(params, gathered.texts)
    matching = [line for line in lines if regex.search(line.text)]
    read = f"read {', '.join(printable(path) for path, _ in gathered.texts[:5])}"
    return _judge(params, lines, matching, read)


def _judge(params: FileContentParams, lines: list[Line], matching: list[Line], read: str) -> Outcome:
    wanted = f"/{printable(params.pattern)}/"
    if params.expect == "present":
        if matching:
            return Outcome.passed(*_shown(matching))
        return Outcome.failed(f"no line matches {wanted}", read)
    if params.expect == "absent":
        if matching:
            return Outcome.failed(*_shown(matching))
        return Outcome.passed(f"no line matches {wanted}", read)
    seen = set(matching)
    stray = [line for line in lines if line not in seen]
    if stray:
        return Outcome.failed(f"lines not matching {wanted}:", *_shown(stray))
    return Outcome.passed(f"all {len(lines)} lines match {wanted}", read)


def _missing(params: FileContentParams) -> Outcome:
    line = f"none of {', '.join(printable(path) for path in params.paths)} present"
    if params.missing == "pass":
        return Outcome.passed(line)
    if params.missing == "na":
        return Outcome.not_applicable(line)
    return Outcome.failed(line)


CHECK = CheckType(
    "file_content", FileContentParams, evaluate, "a pattern present in, absent from or matching files"
)
