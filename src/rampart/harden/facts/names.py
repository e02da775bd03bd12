"""User and group names of the target: name → id tables read from the target's own /etc/passwd and /etc/group.

Memoized per run via ``context.memo("names", ...)``; fixes read it straight from a view (they run outside a
check run). Only names and ids: ``facts/accounts.py`` holds the full account records that account rules judge.
Garbage lines are skipped; ``root`` means 0 even when the target has no passwd file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rampart.harden.context import Context
from rampart.harden.view import SystemView, ViewError


@dataclass(frozen=True)
class Names:
    """``users`` and ``groups`` map names to ids; the reverse maps give a name to show for an id."""

    users: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)

    def uid(self, spec: str | int) -> int | None:
        return _resolve(spec, self.users)

    def gid(self, spec: str | int) -> int | None:
        return _resolve(spec, self.groups)

    def user_name(self, uid: int | None) -> str:
        return _name_of(uid, self.users)

    def group_name(self, gid: int | None) -> str:
        return _name_of(gid, self.groups)


def _resolve(spec: str | int, table: dict[str, int]) -> int | None:
    if isinstance(spec, int):
        return spec
    if spec.isdigit():
        return int(spec)
    return table.get(spec, 0 if spec == "root" else None)


def _name_of(ident: int | None, table: dict[str, int]) -> str:
    if ident is None:
        return "?"
    names = [name for name, value in table.items() if value == ident]
    return f"{ident} ({names[0]})" if names else str(ident)


def parse_ids(text: str) -> dict[str, int]:
    """``name → id`` from passwd/group-format text (field 3 is the id); malformed lines are skipped."""
    table: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] and fields[2].isdigit() and len(fields[2]) <= 10:
            table.setdefault(fields[0], int(fields[2]))
    return table


def read_names(view: SystemView) -> Names:
    return Names(_table(view, "/etc/passwd"), _table(view, "/etc/group"))


def _table(view: SystemView, path: str) -> dict[str, int]:
    try:
        text = view.read_text(path)
    except ViewError:
        return {}
    return parse_ids(text or "")


def names(context: Context) -> Names:
    """The target's name tables, read once per run."""
    return context.memo("names", lambda: read_names(context.view))
