"""``file_exists``: a path (or any match of a glob) exists, or does not; a dangling link does not count."""

from __future__ import annotations

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import printable
from rampart.harden.model import Outcome


class FileExistsParams(Params):
    path: str
    exists: bool = True


def evaluate(params: FileExistsParams, context: Context) -> Outcome:
    entries = (context.view.stat(path) for path in context.view.glob(params.path))
    found = [entry for entry in entries if entry is not None]
    if found:
        line = f"{printable(found[0].path)}: present ({found[0].kind})"
        return Outcome.passed(line) if params.exists else Outcome.failed(f"{line}; it should not exist")
    line = f"{printable(params.path)}: not present"
    return Outcome.failed(f"{line}; it should exist") if params.exists else Outcome.passed(line)


CHECK = CheckType("file_exists", FileExistsParams, evaluate, "a path exists (or does not)")
