"""Reading the facts of one path: its `Entry` (lstat fields, link target, xattrs, ACL, capabilities, SELinux
label) and its content digest.

Nothing here follows a symlink or raises for a file it cannot read: a fact that could not be read becomes
the entry's ``error`` text. Content is read through a file descriptor opened with ``O_NOFOLLOW|O_NONBLOCK``
whose ``fstat`` must be the inode the walk saw (else "replaced while read") and must not change while it is
read (else "changed while read"), so a digest always belongs to the entry it is stored with.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
import struct
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import blake3

from rampart.fim.model import Attr, Entry, HashName, Kind

CHUNK = 1 << 20
MAX_XATTR_VALUE = 1 << 16
XATTR_ATTRS = frozenset({Attr.XATTRS, Attr.ACL, Attr.CAPS, Attr.SELINUX})

KINDS = {
    stat.S_IFREG: Kind.FILE,
    stat.S_IFDIR: Kind.DIR,
    stat.S_IFLNK: Kind.LINK,
    stat.S_IFCHR: Kind.CHAR,
    stat.S_IFBLK: Kind.BLOCK,
    stat.S_IFIFO: Kind.FIFO,
    stat.S_IFSOCK: Kind.SOCKET,
}

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC
_NOATIME = getattr(os, "O_NOATIME", 0)
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP)
_ACL_ACCESS = "system.posix_acl_access"
_ACL_DEFAULT = "system.posix_acl_default"
_CAPABILITY = "security.capability"
_SELINUX = "security.selinux"


class Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...

    def digest(self) -> bytes: ...


def kind_of(mode: int) -> Kind:
    """The `Kind` of an ``st_mode``."""
    return KINDS[stat.S_IFMT(mode)]


def why(what: str, exc: OSError) -> str:
    """One line for an OSError: ``what: strerror``."""
    return f"{what}: {exc.strerror or os.strerror(exc.errno or 0)}"


def read_entry(path: bytes, st: os.stat_result, attrs: frozenset[Attr]) -> Entry:
    """The entry for ``path`` from its lstat ``st`` plus what ``attrs`` ask for (no digest)."""
    kind = KINDS[stat.S_IFMT(st.st_mode)]
    link = error = None
    if kind is Kind.LINK and Attr.LINK in attrs:
        try:
            link = os.readlink(path)  # noqa: PTH115 - bytes path, never followed
        except OSError as exc:
            error = why("link target", exc)
    facts = _NO_FACTS if attrs.isdisjoint(XATTR_ATTRS) else read_xattrs(path, attrs)
    if facts.error:
        error = f"{error}; {facts.error}" if error else facts.error
    return new_entry(
        path, kind, st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
        st.st_ino, st.st_dev, st.st_nlink, link, None, facts.xattrs, facts.acl, facts.caps, facts.selinux, error,
    )  # fmt: skip


def _entry_maker() -> Callable[..., Entry]:
    """`Entry`'s constructor without the frozen dataclass's per-field ``object.__setattr__`` (a third of
    the cost of reading a path): the same object, every field set through its slot, all 18 given in order."""
    names = [field.name for field in dataclasses.fields(Entry)]
    assert set(names) == set(Entry.__slots__)
    scope: dict[str, Any] = {"new": object.__new__, "Entry": Entry}
    scope |= {f"set_{name}": getattr(Entry, name).__set__ for name in names}
    body = "".join(f"    set_{name}(entry, {name})\n" for name in names)
    exec(f"def new_entry({', '.join(names)}):\n    entry = new(Entry)\n{body}    return entry\n", scope)  # noqa: S102
    maker: Callable[..., Entry] = scope["new_entry"]
    return maker


new_entry = _entry_maker()


class XattrFacts:
    """What the extended attributes of one path say."""

    __slots__ = ("acl", "caps", "error", "selinux", "xattrs")

    def __init__(self) -> None:
        self.xattrs: tuple[tuple[bytes, bytes], ...] = ()
        self.acl: str | None = None
        self.caps: str | None = None
        self.selinux: str | None = None
        self.error: str | None = None


_NO_FACTS = XattrFacts()  # shared, never changed: most paths have no xattrs at all


def read_xattrs(path: bytes, attrs: frozenset[Attr]) -> XattrFacts:
    """One ``llistxattr``, then ``lgetxattr`` only for the names present that ``attrs`` need."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_XATTRS:
            return _NO_FACTS
        facts = XattrFacts()
        facts.error = why("xattrs", exc)
        return facts
    if not names:
        return _NO_FACTS
    facts = XattrFacts()
    _read_values(path, sorted(names), attrs, facts)
    return facts


def _read_values(path: bytes, names: Iterable[str], attrs: frozenset[Attr], facts: XattrFacts) -> None:
    hashed: list[tuple[bytes, bytes]] = []
    acls: list[str] = []
    for name in names:
        if Attr.XATTRS not in attrs and not _wanted(name, attrs):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)[:MAX_XATTR_VALUE]
        except OSError as exc:
            if exc.errno != errno.ENODATA:  # removed since it was listed: simply gone
                facts.error = why(f"xattr {name!r}", exc)
            continue
        if Attr.XATTRS in attrs:
            hashed.append((os.fsencode(name), hashlib.sha256(value).digest()))
        _interpret(name, value, attrs, facts, acls)
    facts.xattrs = tuple(hashed)
    facts.acl = ",".join(acls) if acls else None


def _wanted(name: str, attrs: frozenset[Attr]) -> bool:
    if name in (_ACL_ACCESS, _ACL_DEFAULT):
        return Attr.ACL in attrs
    if name == _CAPABILITY:
        return Attr.CAPS in attrs
    return name == _SELINUX and Attr.SELINUX in attrs


def _interpret(name: str, value: bytes, attrs: frozenset[Attr], facts: XattrFacts, acls: list[str]) -> None:
    if name == _ACL_ACCESS and Attr.ACL in attrs:
        acls.insert(0, acl_text(value))  # access entries first, then the default ones
    elif name == _ACL_DEFAULT and Attr.ACL in attrs:
        acls.append(acl_text(value, "default:"))
    elif name == _CAPABILITY and Attr.CAPS in attrs:
        facts.caps = caps_text(value)
    elif name == _SELINUX and Attr.SELINUX in attrs:
        facts.selinux = value.rstrip(b"\0").decode("utf-8", "backslashreplace")


_ACL_TAGS = {0x01: "user", 0x02: "user", 0x04: "group", 0x08: "group", 0x10: "mask", 0x20: "other"}
_ACL_NAMED = (0x02, 0x08)


def acl_text(value: bytes, prefix: str = "") -> str:
    """POSIX ACL text (``user::rwx,user:1000:r-x,...``) of a ``system.posix_acl_*`` value (version 2 form)."""
    if len(value) < 4 or (len(value) - 4) % 8 or struct.unpack_from("<I", value)[0] != 2:
        return f"{prefix}malformed:{hashlib.sha256(value).hexdigest()[:16]}"
    parts = []
    for tag, perm, qualifier in struct.iter_unpack("<HHI", value[4:]):
        name = _ACL_TAGS.get(tag, f"tag{tag:#x}")
        who = str(qualifier) if tag in _ACL_NAMED else ""
        rwx = ("r" if perm & 4 else "-") + ("w" if perm & 2 else "-") + ("x" if perm & 1 else "-")
        parts.append(f"{prefix}{name}:{who}:{rwx}")
    return ",".join(parts)


CAP_NAMES = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)
_CAP_SIZES = {0x01000000: 12, 0x02000000: 20, 0x03000000: 24}


def caps_text(value: bytes) -> str:
    """File capabilities as text (``cap_net_raw=ep``; ``[rootid=N]`` for a namespaced v3 set)."""
    magic = struct.unpack_from("<I", value)[0] if len(value) >= 4 else 0
    revision = magic & 0xFF000000
    if _CAP_SIZES.get(revision) != len(value):
        return f"malformed:{hashlib.sha256(value).hexdigest()[:16]}"
    words = (
        struct.unpack_from("<4I", value, 4)
        if revision != 0x01000000
        else (*struct.unpack_from("<2I", value, 4), 0, 0)
    )
    permitted, inheritable = words[0] | words[2] << 32, words[1] | words[3] << 32
    text = _cap_clauses(permitted, inheritable, effective=bool(magic & 1))
    return f"{text} [rootid={struct.unpack_from('<I', value, 20)[0]}]" if revision == 0x03000000 else text


def _cap_clauses(permitted: int, inheritable: int, effective: bool) -> str:
    clauses: dict[str, list[str]] = {}
    for bit in range(64):
        p, i = permitted >> bit & 1, inheritable >> bit & 1
        if p or i:
            flags = ("e" if effective else "") + ("i" if i else "") + ("p" if p else "")
            name = f"cap_{CAP_NAMES[bit]}" if bit < len(CAP_NAMES) else f"cap_{bit}"
            clauses.setdefault(flags, []).append(name)
    return " ".join(f"{','.join(names)}={flags}" for flags, names in clauses.items()) or "="


def hasher_factory(name: HashName) -> Callable[[], Hasher]:
    """A constructor of fresh hash objects for ``name`` (BLAKE3 single-threaded: parallelism is per file)."""
    if name is HashName.SHA256:
        return hashlib.sha256
    return lambda: blake3.blake3(max_threads=1)


def hash_file(path: bytes, st: os.stat_result, name: HashName) -> tuple[bytes | None, str | None]:
    """``(digest, None)`` of the file the lstat ``st`` describes, or ``(None, why not)``."""
    return digest_file(path, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), hasher_factory(name))


Expect = tuple[int, int, int, int]  # (st_dev, st_ino, st_size, st_mtime_ns) as the walk saw them


def hash_batch(batch: list[tuple[bytes, Expect]], name: str) -> list[tuple[bytes | None, str | None]]:
    """The digests of a batch of files, in order (run in a worker process)."""
    factory = hasher_factory(HashName(name))
    return [digest_file(path, expect, factory) for path, expect in batch]


def digest_file(path: bytes, expect: Expect, new: Callable[[], Hasher]) -> tuple[bytes | None, str | None]:
    """The digest (by a hasher from ``new``) of the file at ``path`` if it is still the one ``expect`` says."""
    try:
        fd = open_file(path)
    except OSError as exc:
        return None, _open_error(exc)
    try:
        return _digest_fd(fd, expect, new())
    except OSError as exc:
        return None, "vanished while read" if exc.errno == errno.ENOENT else why("read", exc)
    finally:
        os.close(fd)


def open_file(path: bytes) -> int:
    """A read-only descriptor that never follows a symlink nor blocks (O_NOATIME when allowed)."""
    if _NOATIME:
        try:
            return os.open(path, _OPEN_FLAGS | _NOATIME)
        except PermissionError as exc:
            if exc.errno != errno.EPERM:  # EPERM: not the owner, O_NOATIME refused; EACCES is real
                raise
    return os.open(path, _OPEN_FLAGS)


def _open_error(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "vanished while read"
    if exc.errno == errno.ELOOP:
        return "replaced while read"  # a symlink now: never followed
    return why("open", exc)


def _digest_fd(fd: int, expect: Expect, hasher: Hasher) -> tuple[bytes | None, str | None]:
    before = os.fstat(fd)
    if (before.st_dev, before.st_ino) != expect[:2] or not stat.S_ISREG(before.st_mode):
        return None, "replaced while read"
    if (before.st_size, before.st_mtime_ns) != expect[2:]:
        return None, "changed while read"
    total = read_into(fd, hasher)
    after = os.fstat(fd)
    if total != expect[2] or (after.st_size, after.st_mtime_ns) != expect[2:]:
        return None, "changed while read"
    return hasher.digest(), None


_local = threading.local()


def read_into(fd: int, hasher: Hasher) -> int:
    """Feed everything readable from ``fd`` to ``hasher`` through a reused 1 MiB buffer; the bytes read."""
    buffer: bytearray | None = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    while n := os.readv(fd, (buffer,)):
        hasher.update(view[:n])
        total += n
    return total
