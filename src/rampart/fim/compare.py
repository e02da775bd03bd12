"""Baseline against now: a merge-join of two entry streams in canonical order into added, removed, changed.

For a path in both, only the attributes its policy rule watches are compared (a path no rule covers: its
type only); a change of type (a file replaced by a directory or a link) is one change with attribute ``type``
and nothing else, since the other facts of a different object do not compare. `AttrChange` values are plain
display text: numbers stay numbers (owner names are the reporter's business), modes are ``0755``, times ISO
UTC with nanoseconds, digests hex. `QuickReuse` lets a walk reuse baseline digests of untouched files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from rampart.errors import FimError
from rampart.fim.baseline import decode_line
from rampart.fim.entrycodec import encode_entry
from rampart.fim.model import Attr, AttrChange, Change, ChangeKind, Entry, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import Policy

Check = Callable[[Entry, Entry], AttrChange | None]
_TYPE_ONLY = frozenset({Attr.TYPE})
_NS = 1_000_000_000

Line = tuple[bytes, bytes]  # a baseline entry as its path key and its raw line (`Baseline.lines`)


def compare(baseline: Iterable[Entry], now: Iterable[Entry], policy: Policy) -> Iterator[Change]:
    """Every difference between `baseline` and `now` (both strictly in canonical order), in that order."""
    old, new = ordered(baseline, "baseline"), ordered(now, "tree")
    before, after = next(old, None), next(new, None)
    watched = Watched(policy)
    while before is not None or after is not None:
        if before is not None and (after is None or before[0] < after[0]):
            yield Change(before[1].path, ChangeKind.REMOVED, before=before[1])
            before = next(old, None)
        elif after is not None and (before is None or after[0] < before[0]):
            yield Change(after[1].path, ChangeKind.ADDED, after=after[1])
            after = next(new, None)
        elif before is not None and after is not None:
            change = diff(before[1], after[1], watched)
            if change is not None:
                yield change
            before, after = next(old, None), next(new, None)


def compare_lines(baseline: Iterable[Line], now: Iterable[Entry], policy: Policy) -> Iterator[Change]:
    """`compare` with the baseline as raw lines (`Baseline.lines`): a line byte for byte equal to the encoding
    of the entry now is no change (the codec is one to one), so only the lines that differ are decoded."""
    old, new = iter(baseline), ordered(now, "tree")
    before, after = next(old, None), next(new, None)
    watched = Watched(policy)
    while before is not None or after is not None:
        if before is not None and (after is None or before[0] < after[0]):
            entry = decode_line(*before)
            yield Change(entry.path, ChangeKind.REMOVED, before=entry)
            before = next(old, None)
        elif after is not None and (before is None or after[0] < before[0]):
            yield Change(after[1].path, ChangeKind.ADDED, after=after[1])
            after = next(new, None)
        elif before is not None and after is not None:
            change = line_change(before, after[1], watched)
            if change is not None:
                yield change
            before, after = next(old, None), next(new, None)


def line_change(before: Line, entry: Entry, watched: Watched) -> Change | None:
    """The change between a baseline line and the entry now of its path; the line is decoded only when it
    differs from the entry's encoding."""
    if encode_entry(entry) == before[1]:
        return None
    return diff(decode_line(*before), entry, watched)


def ordered(entries: Iterable[Entry], side: str) -> Iterator[tuple[bytes, Entry]]:
    """Each entry with its path key; `FimError` when they are not strictly in canonical order."""
    previous: bytes | None = None
    for entry in entries:
        key = path_key(entry.path)
        if previous is not None and key <= previous:
            raise FimError(f"{side} entries are not in canonical order at {entry.path!r}")
        previous = key
        yield key, entry


class Watched:
    """The attributes compared for a path: its rule's, ``growing`` dropped when ``size`` is watched too."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._cache: dict[frozenset[Attr], tuple[Attr, ...]] = {}

    def __call__(self, path: bytes) -> tuple[Attr, ...]:
        rule = self._policy.rule_for(path)
        attrs = rule.attrs if rule is not None else _TYPE_ONLY
        found = self._cache.get(attrs)
        if found is None:
            skip = {Attr.GROWING} if Attr.SIZE in attrs else set()
            found = self._cache[attrs] = tuple(a for a in Attr if a in attrs and a not in skip)
        return found


def diff(before: Entry, after: Entry, watched: Callable[[bytes], tuple[Attr, ...]]) -> Change | None:
    """The change between two entries of one path, or None when no watched attribute differs."""
    if before == after:
        return None
    if before.kind != after.kind:
        attrs: tuple[AttrChange, ...] = (AttrChange(Attr.TYPE, before.kind.value, after.kind.value),)
    else:
        found = (_CHECKS[attr](before, after) for attr in watched(after.path))
        attrs = tuple(change for change in found if change is not None)
    if not attrs:
        return None
    return Change(after.path, ChangeKind.CHANGED, attrs, before=before, after=after)


def _same(attr: Attr, old: object, new: object, show: Callable[[object], str] = str) -> AttrChange | None:
    return None if old == new else AttrChange(attr, show(old), show(new))


def _mode(value: object) -> str:
    return f"{value:04o}"


def show_time(value: object) -> str:
    """Nanoseconds since the epoch as ISO UTC with nanoseconds (``2024-05-01T12:00:00.000000001Z``)."""
    assert isinstance(value, int)
    seconds, fraction = divmod(value, _NS)
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
    except (OverflowError, OSError, ValueError):
        return f"{value}ns"


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def _bytes(value: object) -> str:
    return "-" if not isinstance(value, bytes) else value.decode("utf-8", "backslashreplace")


def _xattrs(value: object) -> str:
    assert isinstance(value, tuple)
    return ", ".join(f"{_bytes(name)}={digest.hex()[:16]}" for name, digest in value) or "-"


def _size_shrunk(before: Entry, after: Entry) -> AttrChange | None:
    return AttrChange(Attr.GROWING, str(before.size), str(after.size)) if after.size < before.size else None


def _digest(before: Entry, after: Entry) -> AttrChange | None:
    if before.digest is None or after.digest is None or before.digest == after.digest:
        return None
    return AttrChange(Attr.HASH, before.digest.hex(), after.digest.hex())


_CHECKS: dict[Attr, Check] = {
    Attr.TYPE: lambda b, a: _same(Attr.TYPE, b.kind.value, a.kind.value),
    Attr.MODE: lambda b, a: _same(Attr.MODE, b.mode & 0o7777, a.mode & 0o7777, _mode),
    Attr.OWNER: lambda b, a: _same(Attr.OWNER, b.uid, a.uid),
    Attr.GROUP: lambda b, a: _same(Attr.GROUP, b.gid, a.gid),
    Attr.SIZE: lambda b, a: _same(Attr.SIZE, b.size, a.size),
    Attr.GROWING: _size_shrunk,
    Attr.MTIME: lambda b, a: _same(Attr.MTIME, b.mtime_ns, a.mtime_ns, show_time),
    Attr.CTIME: lambda b, a: _same(Attr.CTIME, b.ctime_ns, a.ctime_ns, show_time),
    Attr.INODE: lambda b, a: _same(Attr.INODE, b.inode, a.inode),
    Attr.NLINK: lambda b, a: _same(Attr.NLINK, b.nlink, a.nlink),
    Attr.LINK: lambda b, a: _same(Attr.LINK, b.link, a.link, _bytes),
    Attr.HASH: _digest,
    Attr.XATTRS: lambda b, a: _same(Attr.XATTRS, b.xattrs, a.xattrs, _xattrs),
    Attr.ACL: lambda b, a: _same(Attr.ACL, b.acl, a.acl, _text),
    Attr.CAPS: lambda b, a: _same(Attr.CAPS, b.caps, a.caps, _text),
    Attr.SELINUX: lambda b, a: _same(Attr.SELINUX, b.selinux, a.selinux, _text),
}


class QuickReuse:
    """A forward cursor over a baseline, usable as a walk's ``reuse``: the baseline digest of a file whose
    size, mtime, ctime, inode and device are all unchanged, else None (hash it). Calls must come in canonical
    order (a call out of order just answers None)."""

    def __init__(self, baseline: Iterable[Entry]) -> None:
        self._entries = ordered(baseline, "baseline")
        self._current = next(self._entries, None)
        self.hits = 0

    def __call__(self, entry: Entry) -> bytes | None:
        key = path_key(entry.path)
        while self._current is not None and self._current[0] < key:
            self._current = next(self._entries, None)
        if self._current is None or self._current[0] != key:
            return None
        old = self._current[1]
        if old.digest is None or old.kind is not Kind.FILE or entry.kind is not Kind.FILE:
            return None
        if stat_key(old) != stat_key(entry):
            return None
        self.hits += 1
        return old.digest


def stat_key(entry: Entry) -> tuple[int, int, int, int, int]:
    """What a quick check trusts to say a file's content is unchanged: size, mtime, ctime, inode, device."""
    return entry.size, entry.mtime_ns, entry.ctime_ns, entry.inode, entry.dev
