"""Files the system regenerates by itself: the explicit table of rules behind ``Cause.GENERATED``.

Each rule is a glob on the path relative to the checked root (``*`` and ``?`` stay inside one name, ``**``
crosses ``/``), optionally limited to some file kinds and to a check on the file itself, with a one-line
reason that reports show. The table is the whole list: a file matches a rule here or it is not generated.

Package-manager state (``/var/lib/dpkg``, ``/var/lib/apt``, ...) is not here: ``packages.py`` explains it as
``Cause.PACKAGE``. Limits worth knowing: a bytecode cache is trusted when its header names its source's
current size and mtime (hash-based ``.pyc`` files need only the source beside them); rampart does not
recompile the source to prove the bytecode is the compiler's.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from rampart.fim.model import Cause, Change, ChangeKind, Entry, Kind

_PYC_HEADER = 16
_PYC_NAME = re.compile(rb"^(?P<stem>[^/]+?)\.[A-Za-z0-9_-]+(?:\.opt-\d+)?\.pyc$")


def in_root(path: bytes, root: Path) -> bytes | None:
    """The path as seen from inside ``root`` (``/usr/bin/env``), or None when it lies outside the root."""
    prefix = os.fsencode(root).rstrip(b"/")
    if not prefix:
        return path
    if path == prefix:
        return b"/"
    return path[len(prefix) :] if path.startswith(prefix + b"/") else None


def _now_or_before(change: Change) -> Entry | None:
    return change.after if change.after is not None else change.before


def _pyc_matches_source(change: Change, inside: bytes) -> bool:
    """A removed cache is harmless; otherwise its source must be beside it and named in its header."""
    if change.kind is ChangeKind.REMOVED:
        return True
    path = change.path
    directory, _, name = path.rpartition(b"/__pycache__/")
    found = _PYC_NAME.match(name)
    if found is None:
        return False
    try:
        source = os.lstat(directory + b"/" + found["stem"] + b".py")
        with open(path, "rb", opener=_no_follow) as handle:
            header = handle.read(_PYC_HEADER)
    except OSError:
        return False
    return stat.S_ISREG(source.st_mode) and _header_names(header, source)


def _header_names(header: bytes, source: os.stat_result) -> bool:
    if len(header) < _PYC_HEADER:
        return False
    flags, mtime, size = (int(value) for value in struct.unpack_from("<III", header, 4))
    if flags & 1:  # hash-based: checked against the source by the interpreter itself
        return True
    return mtime == int(source.st_mtime) & 0xFFFFFFFF and size == source.st_size & 0xFFFFFFFF


def _no_follow(path: str | bytes, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)


def _not_mime_source(change: Change, inside: bytes) -> bool:
    """The database, not the XML sources packages install in ``packages/``."""
    return not inside.startswith(b"/usr/share/mime/packages/")


def _points_to_alternatives(change: Change, inside: bytes) -> bool:
    entry = _now_or_before(change)
    return entry is not None and (entry.link or b"").startswith(b"/etc/alternatives/")


@dataclass(frozen=True)
class GeneratedRule:
    """One kind of generated file: where (glob on the in-root path), which kinds, an extra check, why.

    ``check(change, inside)`` gets the in-root path; it reads the file, if it must, at ``change.path``.
    """

    pattern: str
    reason: str
    kinds: frozenset[Kind] | None = None
    check: Callable[[Change, bytes], bool] | None = None

    def matches(self, change: Change, inside: bytes) -> bool:
        """Whether the change (at host path ``change.path``, ``inside`` as seen in the root) is this rule's."""
        if not _glob(self.pattern).fullmatch(inside.decode("utf-8", "surrogateescape")):
            return False
        entry = _now_or_before(change)
        if self.kinds is not None and (entry is None or entry.kind not in self.kinds):
            return False
        return self.check is None or self.check(change, inside)


_LINK = frozenset({Kind.LINK})
_FILE = frozenset({Kind.FILE})

RULES: tuple[GeneratedRule, ...] = (
    GeneratedRule(
        "**/__pycache__/*.pyc", "Python bytecode cache of the .py beside it", _FILE, _pyc_matches_source
    ),
    GeneratedRule("/etc/ld.so.cache", "ldconfig's cache of shared library locations", _FILE),
    GeneratedRule("/var/cache/ldconfig/aux-cache", "ldconfig's auxiliary cache", _FILE),
    GeneratedRule(
        "/usr/share/mime/**", "shared-mime-info database (update-mime-database)", None, _not_mime_source
    ),
    GeneratedRule("/usr/lib/*/gdk-pixbuf-*/*/loaders.cache", "gdk-pixbuf's loader cache", _FILE),
    GeneratedRule(
        "/usr/share/icons/*/icon-theme.cache", "GTK icon theme cache (gtk-update-icon-cache)", _FILE
    ),
    GeneratedRule("/etc/apparmor.d/cache/**", "AppArmor's compiled policy cache"),
    GeneratedRule("/var/cache/apparmor/**", "AppArmor's compiled policy cache"),
    GeneratedRule("/var/cache/man/**", "man-db's index of manual pages (mandb)"),
    GeneratedRule("/usr/lib/locale/locale-archive", "compiled locales (locale-gen)", _FILE),
    GeneratedRule("/etc/ssl/certs/*", "certificate hash link made by update-ca-certificates", _LINK),
    GeneratedRule("/etc/ssl/certs/ca-certificates.crt", "CA bundle rebuilt by update-ca-certificates", _FILE),
    GeneratedRule("/boot/initrd.img-*", "initramfs rebuilt by update-initramfs", _FILE),
    GeneratedRule("/etc/alternatives/*", "update-alternatives' choice of program", _LINK),
    GeneratedRule("**", "update-alternatives' link to its choice", _LINK, _points_to_alternatives),
    GeneratedRule("/usr/share/info/dir", "install-info's index of info manuals", _FILE),
    GeneratedRule("/usr/share/info/dir.old", "install-info's previous index of info manuals", _FILE),
    GeneratedRule(
        "/usr/share/glib-2.0/schemas/gschemas.compiled", "GSettings schemas compiled by glib", _FILE
    ),
    GeneratedRule("/usr/lib/*/gio/modules/giomodule.cache", "GIO's module cache", _FILE),
    GeneratedRule("/usr/share/applications/mimeinfo.cache", "desktop-file-utils' MIME cache", _FILE),
    GeneratedRule("/var/cache/fontconfig/**", "fontconfig's font cache (fc-cache)"),
)


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*|\?|\[!?[^]]*\])", pattern)
    regex = "".join(_glob_part(part) for part in parts)
    return re.compile(regex, re.DOTALL)


def _glob_part(part: str) -> str:
    if part == "**":
        return ".*"
    if part == "*":
        return "[^/]*"
    if part == "?":
        return "[^/]"
    if part.startswith("[") and part.endswith("]") and len(part) > 2:
        body = part[1:-1]
        return "[^/" + re.escape(body[1:]) + "]" if body.startswith("!") else "[" + re.escape(body) + "]"
    return re.escape(part)


def rule_for(change: Change, root: Path = Path("/")) -> GeneratedRule | None:
    """The first rule that explains the change, or None (also for paths outside ``root``)."""
    inside = in_root(change.path, root)
    if inside is None:
        return None
    return next((rule for rule in RULES if rule.matches(change, inside)), None)


def classify_generated(change: Change, root: Path = Path("/")) -> Change:
    """The change with ``Cause.GENERATED`` and the rule's reason as note when a rule explains it; else unchanged."""
    rule = None if change.cause is not Cause.UNEXPLAINED else rule_for(change, root)
    return change if rule is None else replace(change, cause=Cause.GENERATED, note=rule.reason)
