"""The quick check's shortcut: a path whose baseline line is exactly what it would be written as now is
settled from its ``lstat`` alone, with no `Entry` built, no line decoded and nothing encoded or hashed.

`QuickLines` is one forward cursor over a baseline's raw lines (`Baseline.lines`), shared by the walk and the
comparison. For each path the walk visits, `QuickLines.same` writes the start of the line the codec would
write for it now (path, type and every lstat number: mode, owner, group, size, mtime, ctime, inode, device,
links) and compares it with the baseline's line for that path; the line must then end exactly as the codec
ends such an entry: with nothing else, with a digest (a regular file whose rule watches the hash: the
baseline's digest is reused, as a quick check reuses the digest of a file whose size, mtime, ctime, inode
and device are unchanged), or with the link target read now (a symlink whose rule watches it). Such a path
is *settled*: it is no change, and the walk hands nothing on for it.

Extended attributes (xattrs, ACL, capabilities, SELinux label) are not read for a settled path: its line
says it had none (a line with any is never settled), and setting or removing any of them changes the
inode's ctime, which is unchanged, on the same inode and device. This is the trust a quick check already
puts in ctime for content; ``--full`` reads everything again.

Everything else (a line that differs, an odd path the codec escapes, a path missing on either side) takes
the usual way: the walk builds its `Entry` (its digest reused, when `__call__` finds the stat facts
unchanged), and `QuickLines.changes` merges those entries with the lines the walk did not settle, decoding
only lines that differ. The lines are read to the end, so the baseline's order and count checks still run.
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from rampart.fim.baseline import decode_line, line_key, out_of_order
from rampart.fim.collect import KINDS
from rampart.fim.compare import Line, Watched, line_change, ordered, stat_key
from rampart.fim.model import Attr, Change, ChangeKind, Entry, Kind
from rampart.fim.order import SEPARATOR, path_key
from rampart.fim.policy import Policy

PROGRESS_EVERY = 1024

_PLAIN = re.compile(rb"[ !#-\[\]-~]*").fullmatch  # printable ASCII but '"' and '\': written as it is
_DIGEST_TAIL = re.compile(rb',"h":"[0-9a-f]{64}"}').fullmatch  # as the codec writes a 32-byte digest
_HEAD = b'{"p":"%b","k":"%b","m":%d,"u":%d,"g":%d,"s":%d,"t":%d,"c":%d,"i":%d,"d":%d,"n":%d'
_IFMT = 0o170000  # the type bits of st_mode (`stat.S_IFMT`)
_KINDS = {mode: kind.value.encode("ascii") for mode, kind in KINDS.items()}  # the codec's letters


class QuickLines:
    """A baseline's raw lines (`Baseline.raw_lines`) as a quick check uses them: settled by the walk, or
    left for the comparison.

    The walk calls `same` (and, for an entry it built, `__call__`) in canonical order; `changes` merges what
    the walk produced with ``left``, the lines it passed without settling, in order. The key of a line is
    read only when the line is not settled at once; the order of the lines is checked all the same (a
    settled line has the walk's path, which comes after every line consumed before it).
    """

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = iter(lines)
        self._current = next(self._lines, None)
        self._key: bytes | None = None  # of the current line, once read
        self._index = 0  # of the current line
        self._previous: bytes | None = b""  # key of the line before (None: it was settled at ``_settled``)
        self._settled = b""
        self.left: deque[Line] = deque()  # lines behind the walk that it did not settle
        self.settled = 0  # paths found unchanged by `same`
        self.reused = 0  # digests answered by `__call__`
        self.progress: Callable[[int], None] | None = None  # told `settled` every `PROGRESS_EVERY`

    def same(self, path: bytes, st: os.stat_result, attrs: frozenset[Attr]) -> bool:
        """Whether the baseline line of ``path`` is what the entry of ``st`` would be written as now; if so,
        the path is settled (no change, its line used up). Called for every path: kept flat."""
        mode, inode, dev, nlink, uid, gid, size = st[:7]
        kind = mode & _IFMT
        head = _HEAD % (
            path, _KINDS.get(kind, b"?"), mode & 0o7777, uid, gid, size, st.st_mtime_ns, st.st_ctime_ns,
            inode, dev, nlink,
        )  # fmt: skip
        line = self._current
        if line is None or not line.startswith(head):
            line = self._line(path.replace(b"/", SEPARATOR))
            if line is None or not line.startswith(head):
                return False
        if _PLAIN(path) is None or not _tail(line, len(head), path, kind, attrs):
            return False
        self._previous, self._settled = None, path  # the key of the line is the path's
        self._current, self._key = next(self._lines, None), None
        self._index += 1
        self.settled += 1
        if self.progress is not None and not self.settled % PROGRESS_EVERY:
            self.progress(self.settled)
        return True

    def __call__(self, entry: Entry) -> bytes | None:
        """As a walk's ``reuse``: the baseline digest of a file whose size, mtime, ctime, inode and device are
        unchanged (its line decoded), else None."""
        key = entry.path.replace(b"/", SEPARATOR)
        line = self._line(key)
        if line is None or entry.kind is not Kind.FILE:
            return None
        old = decode_line(key, line)
        if old.digest is None or old.kind is not Kind.FILE or stat_key(old) != stat_key(entry):
            return None
        self.reused += 1
        return old.digest

    def _line(self, key: bytes) -> bytes | None:
        """The line of ``key``, the lines before it left for the comparison."""
        while self._current is not None and self._current_key() < key:
            self._leave()
        return self._current if self._current is not None and self._key == key else None

    def _current_key(self) -> bytes:
        """The key of the current line; `BaselineRefused` unless it comes after the line before."""
        assert self._current is not None
        if self._key is None:
            key = line_key(self._current, self._index)
            previous = self._previous if self._previous is not None else path_key(self._settled)
            if key <= previous:
                raise out_of_order(self._index)
            self._key = key
        return self._key

    def _leave(self) -> None:
        """The current line goes to ``left``, with its key."""
        assert self._current is not None
        self._previous = key = self._current_key()
        self.left.append((key, self._current))
        self._next()

    def _next(self) -> None:
        self._current, self._key = next(self._lines, None), None
        self._index += 1

    def changes(self, now: Iterable[Entry], policy: Policy) -> Iterator[Change]:
        """Every change: the entries the walk produced (``now``, in canonical order) against the lines it did
        not settle; a line is decoded only when it differs from the encoding of the entry now."""
        watched, left = Watched(policy), self.left
        for key, entry in ordered(now, "tree"):
            yield from self._removed(key)
            if left and left[0][0] == key:
                change = line_change(left.popleft(), entry, watched)
                if change is not None:
                    yield change
            else:
                yield Change(entry.path, ChangeKind.ADDED, after=entry)
        yield from self._removed(None)

    def _removed(self, key: bytes | None) -> Iterator[Change]:
        """The lines before ``key`` (all lines: None), which the walk has passed: none of them is there now."""
        while self._current is not None and (key is None or self._current_key() <= key):
            self._leave()
        left = self.left
        while left and (key is None or left[0][0] < key):
            entry = decode_line(*left.popleft())
            yield Change(entry.path, ChangeKind.REMOVED, before=entry)


def _tail(line: bytes, start: int, path: bytes, kind: int, attrs: frozenset[Attr]) -> bool:
    """Whether ``line[start:]`` is what the codec writes after the head for this path now (``kind``: the
    type bits of its mode)."""
    if kind == stat.S_IFREG and Attr.HASH in attrs:
        return _DIGEST_TAIL(line, start) is not None
    if kind == stat.S_IFLNK and Attr.LINK in attrs:
        return _link_tail(line, start, path)
    return len(line) == start + 1 and line.endswith(b"}")


def _link_tail(line: bytes, start: int, path: bytes) -> bool:
    try:
        target = os.readlink(path)  # noqa: PTH115 - bytes path, never followed
    except OSError:
        return False  # the walk reads it again and records why it cannot
    return _PLAIN(target) is not None and line[start:] == b',"l":"' + target + b'"}'
