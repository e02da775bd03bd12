"""Walking what a policy watches: every path under its roots, in canonical order, with content digests.

The walk is depth-first over sorted directory listings (only a stack of listings is held, never the tree),
does one ``lstat`` per path, never follows a symlink and stays on each root's filesystem (a mount point is
reported, not entered, unless a rule names it). Regular files whose rule watches the hash get a digest: the
``reuse`` callback may answer it (a quick check reuses the baseline's digest of an unchanged file); the rest
are hashed in batches by a process pool while the walk goes on, with a bounded number of batches in flight,
and come back in order. In a quick check (``quick``, `QuickLines`), a path whose baseline line shows it
unchanged is settled right after its ``lstat`` and produces no entry at all.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

from rampart.fim.collect import read_entry, why
from rampart.fim.hashpool import Batch, HashPool
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.policy import Policy, Rule

if TYPE_CHECKING:
    from rampart.fim.quick import QuickLines

BATCH_FILES = 64
BATCH_BYTES = 8 << 20
MAX_WAITING = 1 << 14  # entries held back behind an unfinished batch before the walk waits for it
PROGRESS_EVERY = 1024

Reuse = Callable[[Entry], bytes | None]  # a digest known for this entry (it must not keep the entry)
Facts = Iterator[tuple[Entry, bool]]  # an entry without digest, and whether it wants one
Same = Callable[[bytes, os.stat_result, frozenset[Attr]], bool]  # settled by a quick check: no entry


def walk(
    policy: Policy,
    reuse: Reuse | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    quick: QuickLines | None = None,
) -> Generator[Entry, None, None]:
    """Every path under ``policy``'s roots (the roots too), excluded paths and what is below them left out.

    ``workers``: hashing processes (default: one per CPU; 0 hashes in this process). ``progress`` is called
    with the number of paths walked so far, every `PROGRESS_EVERY` entries and at the end. ``quick``: the
    baseline lines of a quick check, which settle unchanged paths (those produce no entry) and answer
    ``reuse``.
    """
    hashing = _Hashing(policy.hash, _cpus() if workers is None else workers)
    count = 0
    if quick is not None:
        reuse = quick
        if progress is not None:
            quick.progress = lambda n: progress(count + n)
    try:
        for entry in hashing.digests(tree_facts(policy, quick), reuse):
            yield entry
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count + (quick.settled if quick is not None else 0))
    finally:
        hashing.close()
    if progress is not None:
        progress(count + (quick.settled if quick is not None else 0))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def tree_facts(policy: Policy, quick: QuickLines | None = None) -> Facts:
    """The entries (no digests) of every root of ``policy``, in canonical order (but those ``quick``
    settles)."""
    for root in policy.roots():
        yield from _Walker(policy, quick).run(root)


def _set_digest(entry: Entry, digest: bytes | None, error: str | None = None) -> Entry:
    """Fill in the digest (or why there is none) of an entry the walk made and has not handed out yet.

    Entries are frozen for their users; this one is still the walk's own (only ``reuse`` has looked at it), and
    building it again would cost the quick check a fifth of its time.
    """
    object.__setattr__(entry, "digest", digest)
    if error:
        object.__setattr__(entry, "error", _join(entry.error, error))
    return entry


class _Walker:
    """One depth-first walk from a root: a stack of (sorted names left, directory + "/", rule, device)."""

    def __init__(self, policy: Policy, quick: QuickLines | None) -> None:
        self.policy = policy
        self.quick = quick
        self.same: Same = quick.same if quick is not None else _never_same
        self.stack: list[tuple[Iterator[bytes], bytes, Rule, int]] = []

    def run(self, root: bytes) -> Facts:
        """The root, then everything below it."""
        st = _lstat(root)
        if isinstance(st, OSError):
            yield from _unreadable(root, st, Kind.DIR)
            return
        yield from self._visit(root, st, self.policy.by_path[root], st.st_dev)
        yield from self._descend()

    def _descend(self) -> Facts:
        """Everything below the directories on the stack: the walk's hot path, kept flat on purpose."""
        rules, excluded, stack, same = self.policy.by_path, self.policy.excluded_test, self.stack, self.same
        lstat = os.lstat
        while stack:
            names, prefix, rule, dev = stack[-1]
            for name in names:
                path = prefix + name
                if excluded(path):
                    yield from self._below(path)
                    continue
                try:
                    st = lstat(path)
                except OSError as exc:
                    yield from _unreadable(path, exc, Kind.FILE)
                    continue
                if stat.S_ISDIR(st.st_mode) or path in rules:
                    yield from self._visit(path, st, rule, dev)
                    break  # its names first, if it was entered; then on with the names left here
                if not same(path, st, rule.attrs):
                    yield _fact(path, st, rule.attrs)
            else:
                stack.pop()

    def _visit(self, path: bytes, st: os.stat_result, rule: Rule, dev: int) -> Facts:
        own = self.policy.by_path.get(path)
        if own is not None:
            rule, dev = own, st.st_dev  # a rule path starts afresh, on its own filesystem
        if not stat.S_ISDIR(st.st_mode):
            if not self.same(path, st, rule.attrs):
                yield _fact(path, st, rule.attrs)
        elif st.st_dev != dev:
            yield read_entry(path, st, rule.attrs), False  # a mount point: another filesystem, not entered
            yield from self._below(path)
        else:
            yield from self._enter(path, st, rule, dev)

    def _enter(self, path: bytes, st: os.stat_result, rule: Rule, dev: int) -> Facts:
        """The directory (unless settled), then its names onto the stack; an error entry if unlistable."""
        try:
            names = list_dir(path, st.st_dev, st.st_ino)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                yield _set_digest(read_entry(path, st, rule.attrs), None, _list_error(exc)), False
                yield from self._below(path)
            return
        if not self.same(path, st, rule.attrs):
            yield read_entry(path, st, rule.attrs), False
        prefix = path if path.endswith(b"/") else path + b"/"
        self.stack.append((iter(names), prefix, rule, dev))

    def _below(self, path: bytes) -> Facts:
        """Rules below a directory the walk does not enter are still walked, from their own paths."""
        for nested in self.policy.rules_below(path):
            yield from _Walker(self.policy, self.quick).run(nested)


def _fact(path: bytes, st: os.stat_result, attrs: frozenset[Attr]) -> tuple[Entry, bool]:
    """The entry of a path that is not a directory, and whether it wants a digest."""
    entry = read_entry(path, st, attrs)
    return entry, entry.kind is Kind.FILE and Attr.HASH in attrs


def _never_same(path: bytes, st: os.stat_result, attrs: frozenset[Attr]) -> bool:
    """Without a quick check's baseline lines no path is settled."""
    return False


def _list_error(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ESTALE):
        return "replaced while read"
    return why("cannot list directory", exc)


_GONE = (errno.ENOENT, errno.ENOTDIR)  # removed or replaced since it was listed
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def list_dir(path: bytes, dev: int, inode: int) -> list[bytes]:
    """The sorted names in the directory at ``path``, if it is still the one the walk lstat'ed.

    Listed through a descriptor opened without following a symlink, so a directory swapped for a symlink
    between the lstat and the listing never makes another directory's names appear here (ESTALE if swapped
    for another directory).
    """
    fd = os.open(path, _DIR_FLAGS)
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (dev, inode):
            raise OSError(errno.ESTALE, "replaced while read")
        names = os.listdir(fd)  # noqa: PTH208 - a descriptor, not a path
    finally:
        os.close(fd)
    # a descriptor's names come as str: encoded back exactly (surrogateescape), all at once (no name has a NUL)
    return sorted(os.fsencode("\0".join(names)).split(b"\0")) if names else []


def _lstat(path: bytes) -> os.stat_result | OSError:
    try:
        return os.lstat(path)
    except OSError as exc:
        return exc


def _unreadable(path: bytes, exc: OSError, kind: Kind) -> Facts:
    """A path that vanished is simply not there; one that cannot be lstat'ed is an entry with an error only
    (``kind`` is a placeholder: the type could not be read)."""
    if exc.errno not in _GONE:
        yield Entry(path, kind, error=why("lstat", exc)), False


def _join(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


class _Hashing:
    """Digests for the walk's files, in walk order: batches in flight and entries held back are bounded."""

    def __init__(self, name: HashName, workers: int) -> None:
        self.pool = HashPool(name, workers)
        self.max_in_flight = max(2 * workers, 1)
        self.in_flight = 0
        self.batch = Batch()
        self.waiting: deque[tuple[Entry, Batch | None, int]] = deque()

    def digests(self, facts: Facts, reuse: Reuse | None) -> Iterator[Entry]:
        waiting = self.waiting
        for entry, wants in facts:
            if wants and reuse is not None and (digest := reuse(entry)) is not None:
                entry, wants = _set_digest(entry, digest), False
            if wants:
                batch = self.batch
                waiting.append((entry, batch, len(batch.items)))
                batch.items.append((entry.path, (entry.dev, entry.inode, entry.size, entry.mtime_ns)))
                batch.size += entry.size + len(entry.path)
                if len(batch.items) < BATCH_FILES and batch.size < BATCH_BYTES:
                    continue
                self._submit()  # a batch out: a good moment to hand out what came back
            elif not waiting:
                yield entry
                continue
            else:
                waiting.append((entry, None, 0))
                if len(waiting) <= MAX_WAITING:
                    continue
            yield from self._ready(final=False)
        self._submit()
        yield from self._ready(final=True)

    def _over(self) -> bool:
        return self.in_flight > self.max_in_flight or len(self.waiting) > MAX_WAITING

    def _ready(self, final: bool) -> Iterator[Entry]:
        """The complete entries at the head; waits for results at the end or while too much is in flight."""
        waiting = self.waiting
        while waiting:
            entry, batch, index = waiting[0]
            if batch is not None:
                wait = final or self._over()
                if batch is self.batch:
                    if not wait:
                        return
                    self._submit()
                if not self.pool.ready(batch, wait):
                    return
                entry = self._finish(entry, batch, index)
            waiting.popleft()
            yield entry

    def _finish(self, entry: Entry, batch: Batch, index: int) -> Entry:
        assert batch.results is not None
        digest, error = batch.results[index]
        if index == len(batch.items) - 1:
            self.in_flight -= 1
        return _set_digest(entry, digest, error)

    def _submit(self) -> None:
        batch = self.batch
        if batch.items:
            self.batch = Batch()
            self.in_flight += 1
            self.pool.submit(batch)

    def close(self) -> None:
        self.pool.close()
