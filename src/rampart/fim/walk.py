"""Walking what a policy watches: every path under its roots, in canonical order, with content digests.

The walk is depth-first over sorted directory listings (only a stack of listings is held, never the tree),
does one ``lstat`` per path, never follows a symlink and stays on each root's filesystem (a mount point is
reported, not entered, unless a rule names it). Regular files whose rule watches the hash get a digest: the
``reuse`` callback may answer it (a quick check reuses the baseline's digest of an unchanged file); the rest
are hashed in batches by a process pool while the walk goes on, with a bounded number of batches in flight,
and come back in order.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable, Generator, Iterator

from rampart.fim.collect import read_entry, why
from rampart.fim.hashpool import Batch, HashPool
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.policy import Policy, Rule

BATCH_FILES = 64
BATCH_BYTES = 8 << 20
MAX_WAITING = 1 << 14  # entries held back behind an unfinished batch before the walk waits for it
PROGRESS_EVERY = 1024

Reuse = Callable[[Entry], bytes | None]  # a digest known for this entry (it must not keep the entry)
Facts = Iterator[tuple[Entry, bool]]  # an entry without digest, and whether it wants one


def walk(
    policy: Policy,
    reuse: Reuse | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Generator[Entry, None, None]:
    """Every path under ``policy``'s roots (the roots too), excluded paths and what is below them left out.

    ``workers``: hashing processes (default: one per CPU; 0 hashes in this process). ``progress`` is called
    with the number of entries produced so far, every `PROGRESS_EVERY` entries and at the end.
    """
    hashing = _Hashing(policy.hash, _cpus() if workers is None else workers)
    count = 0
    try:
        for entry in hashing.digests(tree_facts(policy), reuse):
            yield entry
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
    finally:
        hashing.close()
    if progress is not None:
        progress(count)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def tree_facts(policy: Policy) -> Facts:
    """The entries (no digests) of every root of ``policy``, in canonical order."""
    for root in policy.roots():
        yield from _Walker(policy).run(root)


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

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.stack: list[tuple[Iterator[bytes], bytes, Rule, int]] = []

    def run(self, root: bytes) -> Facts:
        """The root, then everything below it; the loop is the walk's hot path, kept flat on purpose."""
        st = _lstat(root)
        if isinstance(st, OSError):
            yield from _unreadable(root, st, Kind.DIR)
            return
        rules, excluded, stack = self.policy.by_path, self.policy.excluded, self.stack
        yield from self._visit(root, st, rules[root], st.st_dev)
        while stack:
            names, prefix, rule, dev = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            path = prefix + name
            if excluded(path):
                yield from self._below(path)
                continue
            st = _lstat(path)
            if isinstance(st, OSError):
                yield from _unreadable(path, st, Kind.FILE)
                continue
            own = rules.get(path)
            if own is not None:
                rule, dev = own, st.st_dev  # a rule path starts afresh, on its own filesystem
            if stat.S_ISDIR(st.st_mode):
                yield from self._visit(path, st, rule, dev)
            else:
                entry = read_entry(path, st, rule.attrs)
                yield entry, entry.kind is Kind.FILE and Attr.HASH in rule.attrs

    def _visit(self, path: bytes, st: os.stat_result, rule: Rule, dev: int) -> Facts:
        entry = read_entry(path, st, rule.attrs)
        if entry.kind is not Kind.DIR:
            yield entry, entry.kind is Kind.FILE and Attr.HASH in rule.attrs
        elif st.st_dev != dev:
            yield entry, False  # a mount point: another filesystem, not entered
            yield from self._below(path)
        else:
            yield from self._enter(entry, rule, dev)

    def _enter(self, entry: Entry, rule: Rule, dev: int) -> Facts:
        try:
            names = list_dir(entry.path, entry.dev, entry.inode)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return
            replaced = exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ESTALE)
            yield (
                _set_digest(
                    entry, None, "replaced while read" if replaced else why("cannot list directory", exc)
                ),
                False,
            )
            yield from self._below(entry.path)
            return
        yield entry, False
        prefix = entry.path if entry.path.endswith(b"/") else entry.path + b"/"
        self.stack.append((iter(names), prefix, rule, dev))

    def _below(self, path: bytes) -> Facts:
        """Rules below a directory the walk does not enter are still walked, from their own paths."""
        for nested in self.policy.rules_below(path):
            yield from _Walker(self.policy).run(nested)


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
        try:  # the descriptor's own directory, names as bytes (listdir of a descriptor gives str)
            return sorted(os.listdir(b"/proc/self/fd/%d" % fd))  # noqa: PTH208 - bytes names
        except FileNotFoundError:  # no /proc
            return sorted(map(os.fsencode, os.listdir(fd)))  # noqa: PTH208 - a descriptor, not a path
    finally:
        os.close(fd)


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
