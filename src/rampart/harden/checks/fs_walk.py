"""``fs_walk``: filesystem-wide facts from the one shared walk (facts/fswalk.py).

``assert``: ``world_writable_files``, ``world_writable_dirs_sticky`` (world-writable directories must have the
sticky bit), ``unowned``, ``ungrouped`` (na without /etc/passwd or /etc/group), ``suid_sgid`` (every SUID/SGID
file must match one of ``allowed`` globs; the others are listed for review and fail, or are ``manual`` when
``unlisted: manual``). ``exclude``: path globs left out of the judgement. A walk that finds nothing is na.
"""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.facts.fswalk import Category, WalkFacts, walk_facts
from rampart.harden.model import Outcome

MAX_SHOWN = 20
LABELS = {
    "world_writable_files": "world-writable file",
    "world_writable_dirs_sticky": "world-writable directory without the sticky bit",
    "unowned": "owner not in /etc/passwd",
    "ungrouped": "group not in /etc/group",
    "suid_sgid": "SUID/SGID file not in the reviewed list",
}


class FsWalkParams(Params):
    assert_: Literal[
        "world_writable_files", "world_writable_dirs_sticky", "unowned", "ungrouped", "suid_sgid"
    ] = Field(alias="assert")
    allowed: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    unlisted: Literal["fail", "manual"] = "fail"


def _category(facts: WalkFacts, name: str) -> Category | None:
    return {
        "world_writable_files": facts.world_writable_files,
        "world_writable_dirs_sticky": facts.world_writable_dirs,
        "unowned": facts.unowned,
        "ungrouped": facts.ungrouped,
        "suid_sgid": facts.suid_sgid,
    }[name]


def _matches(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def evaluate(params: FsWalkParams, context: Context) -> Outcome:
    facts = walk_facts(context)
    if facts.entries == 0:
        return Outcome.not_applicable("the filesystem walk found no entries")
    category = _category(facts, params.assert_)
    if category is None:
        return Outcome.not_applicable(f"no {'/etc/passwd' if params.assert_ == 'unowned' else '/etc/group'}")
    offending = [path for path in category.examples if not _matches(path, [*params.exclude, *params.allowed])]
    label = LABELS[params.assert_]
    summary = f"walked {facts.entries} entries"
    if not offending:
        return Outcome.passed(f"{summary}: no {label}", *_reviewed(category, params))
    lines = [f"{shown(path, 200)}: {label}" for path in offending[:MAX_SHOWN]]
    more = len(offending) - len(lines) + (category.count - len(category.examples))
    lines += [f"... and {more} more"] if more > 0 else []
    if params.assert_ == "suid_sgid" and params.unlisted == "manual":
        return Outcome.manual("review the SUID/SGID files listed", *lines)
    return Outcome.failed(*lines, summary)


def _reviewed(category: Category, params: FsWalkParams) -> list[str]:
    if params.assert_ != "suid_sgid":
        return []
    return [f"{len(category.examples)} SUID/SGID files, all in the reviewed list"]


CHECK = CheckType("fs_walk", FsWalkParams, evaluate, "filesystem-wide facts from the one shared walk")
