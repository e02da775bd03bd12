"""Persisted kernel parameters: the assignments of sysctl configuration, in the order systemd-sysctl applies them.

Directories ``/etc/sysctl.d``, ``/run/sysctl.d``, ``/usr/local/lib/sysctl.d``, ``/usr/lib/sysctl.d`` and
``/lib/sysctl.d`` (same file name: the earlier directory wins; files in name order), then ``/etc/sysctl.conf``
(unless a sysctl.d entry already links to it, as Debian's ``99-sysctl.conf`` does). Keys may use ``/`` for ``.``
and globs (``net.ipv4.conf.*.rp_filter``); a leading ``-`` (ignore errors) is dropped. A later assignment wins.
Lines that are not ``key = value`` are skipped with a note.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from rampart.harden.context import Context
from rampart.harden.facts.confdirs import overlay
from rampart.harden.view import SystemView

DIRECTORIES = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
MAIN = "/etc/sysctl.conf"
MAX_NOTES = 5
_KEY = re.compile(r"^[A-Za-z0-9_.*?\[\]/:@-]+$")


@dataclass(frozen=True)
class Assignment:
    key: str
    value: str
    where: str


@dataclass(frozen=True)
class SysctlConfig:
    assignments: tuple[Assignment, ...]
    notes: tuple[str, ...]

    def lookup(self, name: str) -> Assignment | None:
        """The assignment that wins for ``name`` (the last one whose key or glob matches it)."""
        for assignment in reversed(self.assignments):
            if assignment.key == name or fnmatch.fnmatchcase(name, assignment.key):
                return assignment
        return None


def normalize_key(key: str) -> str:
    return key.strip().replace("/", ".")


def collapse(value: str) -> str:
    return " ".join(value.split())


def parse(text: str, path: str, notes: list[str]) -> list[Assignment]:
    found: list[Assignment] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.lstrip("-").partition("=")
        key = normalize_key(key)
        if not sep or not _KEY.match(key):
            notes.append(f"{path}:{number}: not 'key = value', skipped")
            continue
        found.append(Assignment(key, collapse(value), f"{path}:{number}"))
    return found


def _files(view: SystemView) -> list[str]:
    files = overlay(view, DIRECTORIES)
    linked = any(_links_to_main(view, path) for path in files)
    return files if linked else [*files, MAIN]


def _links_to_main(view: SystemView, path: str) -> bool:
    entry = view.stat(path, follow=False)
    return (
        entry is not None
        and entry.kind == "link"
        and entry.target.rstrip("/").endswith("sysctl.conf")
        and (entry.target.startswith("/etc/") or entry.target.startswith("../"))
    )


def read_config(view: SystemView) -> SysctlConfig:
    notes: list[str] = []
    assignments: list[Assignment] = []
    for path in _files(view):
        text = view.read_text(path)
        if text is not None:
            assignments.extend(parse(text, path, notes))
    extra = [f"{len(notes) - MAX_NOTES} more skipped lines"] if len(notes) > MAX_NOTES else []
    return SysctlConfig(tuple(assignments), tuple(notes[:MAX_NOTES] + extra))


def sysctl_config(context: Context) -> SysctlConfig:
    return context.memo("sysctl", lambda: read_config(context.view))
