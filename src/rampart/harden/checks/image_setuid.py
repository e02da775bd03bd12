"""``image_setuid``: the setuid and setgid files of the image, listed for review or judged against a list.

One walk of the image (shared by the run through ``context.memo``) finds every regular file with the setuid
or setgid bit. Parameters:

- ``allowed``: path globs of the setuid/setgid files the site accepts. When unset (the default) the result
  is ``manual`` with the list (``pass`` when there are none); when set, any file outside it fails.

Evidence: one line per file: path, which bits, mode and owner. Targets that are not images are ``na``.
"""

from __future__ import annotations

import fnmatch
import stat as statmod

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE, shown
from rampart.harden.model import Outcome
from rampart.harden.view import Stat

SPECIAL = statmod.S_ISUID | statmod.S_ISGID
MAX_LINES = 100


class ImageSetuidParams(Params):
    allowed: list[str] | None = None


def evaluate(params: ImageSetuidParams, context: Context) -> Outcome:
    if context.view.image_config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    found = context.memo("image.setuid", lambda: special_files(context))
    if not found:
        return Outcome.passed("no setuid or setgid files")
    if params.allowed is None:
        return Outcome.manual(f"{len(found)} setuid/setgid files: review that each is needed", *_lines(found))
    outside = [
        entry for entry in found if not any(fnmatch.fnmatchcase(entry.path, p) for p in params.allowed)
    ]
    if outside:
        return Outcome.failed(
            f"{len(outside)} setuid/setgid files outside the allowed list", *_lines(outside)
        )
    return Outcome.passed(f"{len(found)} setuid/setgid files, all in the allowed list", *_lines(found))


def special_files(context: Context) -> list[Stat]:
    """Every regular file of the view with the setuid or setgid bit, by path."""
    return sorted(
        (e for e in context.view.walk() if e.kind == "file" and e.mode & SPECIAL), key=lambda e: e.path
    )


def describe(entry: Stat) -> str:
    bits = "+".join(
        name for bit, name in ((statmod.S_ISUID, "setuid"), (statmod.S_ISGID, "setgid")) if entry.mode & bit
    )
    owner = "?" if entry.uid is None else str(entry.uid)
    group = "?" if entry.gid is None else str(entry.gid)
    return f"{shown(entry.path, 200)}: {bits}, mode {entry.mode:04o}, owner {owner}:{group}"


def _lines(entries: list[Stat]) -> list[str]:
    lines = [describe(entry) for entry in entries[:MAX_LINES]]
    return lines + ([f"... and {len(entries) - MAX_LINES} more"] if len(entries) > MAX_LINES else [])


CHECK = CheckType("image_setuid", ImageSetuidParams, evaluate, "the image's setuid and setgid files")
