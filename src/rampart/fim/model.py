"""The value types of file integrity monitoring, shared by every fim module.

Paths are ``bytes`` (file names need not be UTF-8) and absolute, as the host sees them. An `Entry` holds the
facts read about one path (never a judgement); a `Change` is one difference between a baseline entry and the
tree now, and a `Verdict` says how rampart explains it (a package update, a generated file, or unexplained).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Attr(enum.StrEnum):
    """An attribute a policy can watch. ``growing`` watches size too, but lets it grow (logs)."""

    TYPE = "type"
    MODE = "mode"
    OWNER = "owner"
    GROUP = "group"
    SIZE = "size"
    GROWING = "growing"
    MTIME = "mtime"
    CTIME = "ctime"
    INODE = "inode"
    NLINK = "nlink"
    LINK = "link"
    HASH = "hash"
    XATTRS = "xattrs"
    ACL = "acl"
    CAPS = "caps"
    SELINUX = "selinux"


class Kind(enum.StrEnum):
    """A file's type, as ``ls -l`` shows it."""

    FILE = "f"
    DIR = "d"
    LINK = "l"
    CHAR = "c"
    BLOCK = "b"
    FIFO = "p"
    SOCKET = "s"


class HashName(enum.StrEnum):
    BLAKE3 = "blake3"
    SHA256 = "sha256"


@dataclass(frozen=True, slots=True)
class Entry:
    """What was read about one path. ``digest`` only for regular files whose rule watches the hash.

    ``xattrs`` maps each extended attribute name to the SHA-256 of its value (values can be large);
    ``acl``, ``caps`` and ``selinux`` are readable forms of the matching xattrs (POSIX ACL text,
    capability set text, SELinux label), ``None`` when absent. ``error`` says why a fact could not be
    read (permission denied, changed while read, vanished); the facts read so far are kept.
    """

    path: bytes
    kind: Kind
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0
    dev: int = 0
    nlink: int = 0
    link: bytes | None = None
    digest: bytes | None = None
    xattrs: tuple[tuple[bytes, bytes], ...] = ()
    acl: str | None = None
    caps: str | None = None
    selinux: str | None = None
    error: str | None = None


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Cause(enum.StrEnum):
    """How a change is explained."""

    UNEXPLAINED = "unexplained"  # nobody we know made it: review it
    PACKAGE = "package"  # the file now is what its package says it should be (an install or upgrade)
    PACKAGE_MODIFIED = "package-modified"  # a package's file that differs from what the package says
    GENERATED = "generated"  # a file the system regenerates (bytecode caches, ld.so.cache, ...)


@dataclass(frozen=True, slots=True)
class AttrChange:
    """One attribute's value in the baseline and now, as display text."""

    attr: Attr
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Change:
    """One path that was added, removed or changed; ``attrs`` lists what changed (empty when added/removed)."""

    path: bytes
    kind: ChangeKind
    attrs: tuple[AttrChange, ...] = ()
    before: Entry | None = None
    after: Entry | None = None
    cause: Cause = Cause.UNEXPLAINED
    package: str | None = None  # the package that owns the path, when one does
    note: str | None = None  # why the cause was given (a generated-file rule's reason, ...)


@dataclass(frozen=True)
class CheckResult:
    """A check: every change, the paths that could not be read, and what was covered."""

    changes: tuple[Change, ...]
    errors: tuple[tuple[bytes, str], ...] = ()
    entries: int = 0
    hashed: int = 0
    baseline_created: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
