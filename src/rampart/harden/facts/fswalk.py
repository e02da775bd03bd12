"""The one filesystem walk: every entry of ``view.walk()`` visited once, gathering what filesystem-wide rules ask.

Categories: world-writable regular files, world-writable directories without the sticky bit, entries whose
owner or group is not in the target's own passwd/group (None when that file is missing), and SUID/SGID
regular files. Memory stays bounded: each category keeps a count and at most 1000 example paths.
Memoized as ``context.memo("fswalk", ...)``, so every rule that needs it shares one walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.facts.accounts import account_facts
from rampart.harden.view import EntryFilter, Stat, SystemView

MAX_EXAMPLES = 1000


@dataclass
class Category:
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, path: str) -> None:
        self.count += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(path)

    @property
    def truncated(self) -> bool:
        return self.count > len(self.examples)


@dataclass
class WalkFacts:
    entries: int = 0
    world_writable_files: Category = field(default_factory=Category)
    world_writable_dirs: Category = field(default_factory=Category)
    unowned: Category | None = field(default_factory=Category)
    ungrouped: Category | None = field(default_factory=Category)
    suid_sgid: Category = field(default_factory=Category)


def _visit(entry: Stat, facts: WalkFacts, uids: frozenset[int] | None, gids: frozenset[int] | None) -> None:
    if entry.kind == "file":
        if entry.mode & 0o002:
            facts.world_writable_files.add(entry.path)
        if entry.mode & 0o6000:
            facts.suid_sgid.add(entry.path)
    elif entry.kind == "dir" and entry.mode & 0o002 and not entry.mode & 0o1000:
        facts.world_writable_dirs.add(entry.path)
    if facts.unowned is not None and uids is not None and entry.uid is not None and entry.uid not in uids:
        facts.unowned.add(entry.path)
    if facts.ungrouped is not None and gids is not None and entry.gid is not None and entry.gid not in gids:
        facts.ungrouped.add(entry.path)


def walk(view: SystemView, uids: frozenset[int] | None, gids: frozenset[int] | None) -> WalkFacts:
    """Walk ``view`` once; ``uids``/``gids`` are the known ids (None: the target has no passwd/group file)."""
    facts = WalkFacts(
        unowned=Category() if uids is not None else None, ungrouped=Category() if gids is not None else None
    )
    for entry in view.walk(_interesting(facts, uids, gids)):
        _visit(entry, facts, uids, gids)
    return facts


def _interesting(facts: WalkFacts, uids: frozenset[int] | None, gids: frozenset[int] | None) -> EntryFilter:
    """The raw test the walk asks of every entry (and counts): only entries some category may want are built."""
    known_uids = uids if uids is not None else _ANY
    known_gids = gids if gids is not None else _ANY

    def keep(mode: int, uid: int, gid: int) -> bool:
        facts.entries += 1
        special = mode & 0o6002 and mode & 0o170000 != 0o120000  # a link's 0777 means nothing
        return bool(special) or uid not in known_uids or gid not in known_gids

    return keep


class _Anything(frozenset[int]):
    """Stands for "every id is known" when the target has no passwd or group file."""

    def __contains__(self, item: object) -> bool:
        return True


_ANY = _Anything()


def walk_facts(context: Context) -> WalkFacts:
    """The shared walk of the target, done once per run."""

    def compute() -> WalkFacts:
        accounts = account_facts(context)
        uids = frozenset(a.uid for a in accounts.passwd.entries) if accounts.passwd.present else None
        gids = frozenset(g.gid for g in accounts.group.entries) if accounts.group.present else None
        return walk(context.view, uids, gids)

    return context.memo("fswalk", compute)
