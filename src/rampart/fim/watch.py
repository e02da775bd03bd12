"""Real-time fim: inotify watches on every directory a verified baseline's policy covers, each change
reported as it happens.

Start: every policy root is *reconciled*: its directories are watched (walked as `walk` walks them:
excludes respected, one filesystem per rule, no symlink followed; a directory is watched before it is
listed), then the tree is compared with the baseline by a quick check, which reports what changed while
nothing watched. Then events: the paths that had events wait a settle time (a burst becomes one read), are
read again (one ``lstat``, `collect.read_entry`, the digest) and compared with their baseline entries
(`compare.compare`, so with the policy's watched attributes; missing from the baseline is added, gone is
removed); the directory an entry came or went in is read again too. A directory that appears is watched,
then walked (files may have been made before the watch); one that goes takes its baseline entries with it.

A path's state is reported once: the last reported change of each path is remembered (a fingerprint,
bounded; the oldest are forgotten) and a path back to its baseline state is reported ``restored``. Lost
events are loud: a queue overflow (or more paths waiting than `MAX_PENDING`) warns and reconciles every
root; a directory that cannot be watched (the inotify watch limit, ``fs.inotify.max_user_watches``) warns
with the limit and how to raise it, and its tree is quick-checked every ``poll`` seconds instead (and
watched again as soon as it can be).

Memory: one watch per directory, bounded tables of waiting paths and reported states; baseline entries are
looked up in a SQLite index built at start in a private temporary directory, never held in memory. Reading
and comparing run in a worker thread, one batch at a time, while the event loop keeps draining inotify.
``notice_json`` and ``notice_line`` render what the watcher reports (pure).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import errno
import hashlib
import os
import signal
import sqlite3
import stat
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from asyncinotify import Event, Inotify, Mask

from rampart.fim.baseline import Baseline
from rampart.fim.collect import hash_file, read_entry, why
from rampart.fim.compare import QuickReuse, compare
from rampart.fim.entrycodec import decode_entry, encode_entry
from rampart.fim.lifecycle import baseline_policy
from rampart.fim.model import Attr, Change, ChangeKind, CheckResult, Entry, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import Policy, Rule, is_below
from rampart.fim.walk import list_dir, walk
from rampart.report.escape import shown_bytes, unambiguous_text

if TYPE_CHECKING:
    from rampart.fim.packages import PackageIndex

MASK = (
    Mask.CREATE | Mask.DELETE | Mask.MODIFY | Mask.ATTRIB | Mask.MOVED_FROM | Mask.MOVED_TO
    | Mask.CLOSE_WRITE | Mask.DELETE_SELF | Mask.MOVE_SELF | Mask.ONLYDIR | Mask.DONT_FOLLOW
)  # fmt: skip
_STRUCTURE = Mask.CREATE | Mask.DELETE | Mask.MOVED_FROM | Mask.MOVED_TO
_SELF = Mask.DELETE_SELF | Mask.MOVE_SELF
MAX_PENDING = 1 << 16
MAX_REMEMBERED = 1 << 16
MAX_RETRIES = 5
LIMIT = "/proc/sys/fs/inotify/max_user_watches"
_TRANSIENT = ("changed while read", "vanished while read", "replaced while read")
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)
_PACKAGE_DBS = (
    "/var/lib/dpkg/status",
    "/var/lib/dpkg/info",
    "/var/lib/dpkg/diversions",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
)


@dataclass(frozen=True)
class Options:
    """``settle``: seconds a path's events are gathered; ``poll``: seconds between quick checks of trees
    that could not be watched; ``workers``: hashing processes of reconciles (None: one per CPU)."""

    settle: float = 0.2
    poll: float = 60.0
    packages: bool = True
    workers: int | None = None


@dataclass(frozen=True)
class Notice:
    """One thing to tell: a change, a path back to its baseline state, a warning, or a remark (stderr)."""

    time: datetime
    change: Change | None = None
    restored: bytes | None = None
    warning: str | None = None
    info: str | None = None


class Depth(enum.IntEnum):
    """How much of a path to read again: itself, its whole tree, or its tree as a reconcile (hash pool)."""

    PATH = 0
    TREE = 1
    FULL = 2


Item = tuple[bytes, Depth, int]  # a path, how deep, how often it was tried already


def targets(directory: bytes, name: bytes | None, mask: Mask) -> list[tuple[bytes, Depth]]:
    """The paths an event on a watched ``directory`` asks to read again (and how deep)."""
    if name is None:
        return [(directory, Depth.TREE if mask & _SELF else Depth.PATH)]
    path = directory.rstrip(b"/") + b"/" + name
    if not mask & _STRUCTURE:
        return [(path, Depth.PATH)]
    return [(path, Depth.TREE if Mask.ISDIR in mask else Depth.PATH), (directory, Depth.PATH)]


def outermost(items: Iterable[Item]) -> list[Item]:
    """``items`` in canonical order, without those a deeper item above them already covers."""
    kept: list[Item] = []
    cover: bytes | None = None
    for item in sorted(items, key=lambda i: path_key(i[0])):
        if cover is not None and is_below(item[0], cover):
            continue
        kept.append(item)
        cover = item[0] if item[1] else None
    return kept


class BaselineIndex:
    """The baseline's entries by path in a private on-disk SQLite table, in canonical order.

    The key is the path with ``/`` as NUL, whose byte order is the component order of `path_key`.
    """

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="rampart-fim-watch-")
        self._db = sqlite3.connect(
            Path(self._dir.name) / "baseline.db", isolation_level=None, check_same_thread=False
        )
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE entry (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID; BEGIN;"
        )
        rows = ((_key(entry.path), encode_entry(entry)) for entry in entries)
        self._db.executemany("INSERT INTO entry VALUES (?, ?)", rows)
        self._db.execute("COMMIT")

    def at(self, path: bytes) -> list[Entry]:
        """The baseline entry of ``path`` (none or one)."""
        rows = self._db.execute("SELECT value FROM entry WHERE key = ?", (_key(path),))
        return [decode_entry(value) for (value,) in rows]

    def below(self, path: bytes) -> Iterator[Entry]:
        """The entries of ``path`` and of everything below it, in canonical order."""
        key = _key(path)
        prefix = key if path == b"/" else key + b"\0"
        rows = self._db.execute(
            "SELECT value FROM entry WHERE key = ? OR (key >= ? AND key < ?) ORDER BY key",
            (key, prefix, prefix[:-1] + b"\1"),
        )
        return (decode_entry(value) for (value,) in rows)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


def _key(path: bytes) -> bytes:
    return path.replace(b"/", b"\0")


class Remembered:
    """A fingerprint per path (what was last said about it), the least recently touched forgotten first."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._marks: OrderedDict[bytes, bytes] = OrderedDict()
        self._limit = limit

    def fresh(self, path: bytes, mark: bytes) -> bool:
        """Whether ``mark`` is new for ``path`` (it is remembered from now on)."""
        known = self._marks.get(path)
        self._marks[path] = mark
        self._marks.move_to_end(path)
        if len(self._marks) > self._limit:
            self._marks.popitem(last=False)
        return known != mark

    def forget(self, path: bytes) -> bool:
        return self._marks.pop(path, None) is not None

    def under(self, path: bytes, deep: bool) -> list[bytes]:
        if not deep:
            return [path] if path in self._marks else []
        return [p for p in self._marks if p == path or is_below(p, path)]


def fingerprint(change: Change) -> bytes:
    """What makes two reports of a path the same: the kind, the types and each attribute's values."""
    kinds = tuple(None if e is None else e.kind.value for e in (change.before, change.after))
    attrs = tuple((a.attr.value, a.before, a.after) for a in change.attrs)
    return hashlib.blake2b(repr((change.kind.value, kinds, attrs)).encode(), digest_size=16).digest()


class Explainer:
    """Causes from one `PackageIndex`, read again when the package databases change (an install ran)."""

    def __init__(self) -> None:
        self._index: PackageIndex | None = None
        self._stamp: tuple[tuple[int, int, int] | None, ...] = ()

    def load(self) -> PackageIndex:
        from rampart.fim.packages import PackageIndex

        stamp = tuple(_stamp(path) for path in _PACKAGE_DBS)
        if self._index is None or stamp != self._stamp:
            self._index, self._stamp = PackageIndex.load(Path("/")), stamp
            len(self._index)  # read now, not on the first change
        return self._index

    def __call__(self, change: Change) -> Change:
        from rampart.fim.packages import explain

        return explain(change, self.load())


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class _Stopped(Exception):
    """The watcher is stopping: the examination in progress is dropped."""


class Watcher:
    """Watches a verified baseline's tree; hands every `Notice` to ``sink`` (on the event loop)."""

    def __init__(
        self,
        baseline: Baseline,
        options: Options,
        sink: Callable[[Notice], None],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.policy = dataclasses.replace(baseline_policy(baseline), hash=baseline.header.hash)
        self.options, self.sink = options, sink
        self.clock = clock or (lambda: datetime.now(UTC))
        self.index = BaselineIndex(baseline.entries())
        self.explain = Explainer() if options.packages else None
        self.watched: dict[int, bytes] = {}  # watch descriptor -> directory
        self.by_path: dict[bytes, int] = {}
        self.unwatched: set[bytes] = set()  # topmost directories that could not be watched: polled
        self.pending: dict[bytes, tuple[float, Depth, int]] = {}  # path -> deadline, depth, tries
        self.reported = Remembered()
        self.unreadable = Remembered()
        self.limit_warned = False
        self.announce = True
        self._inotify: Inotify | None = None
        self._wake = asyncio.Event()
        self._examining = threading.Lock()
        self._stopping = threading.Event()

    # --- running --------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile, then report changes as they happen, until ``stop`` is set."""
        with Inotify() as inotify:
            self._inotify = inotify
            if self.explain is not None:
                await asyncio.to_thread(self.explain.load)
            self._reconcile_all()
            tasks = [
                asyncio.create_task(job) for job in (self._listen(), self._work(), self._poll(), stop.wait())
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._stopping.set()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error

    def close(self) -> None:
        """Release the index (after the examination in progress, if any, gave up)."""
        self._stopping.set()
        with self._examining:
            self.index.close()

    async def _listen(self) -> None:
        assert self._inotify is not None
        async for event in self._inotify:
            self.handle(event)

    async def _work(self) -> None:
        while True:
            await self._process(await self._due())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll)
            for top in sorted(self.unwatched):
                self.enqueue(top, Depth.FULL, delay=0.0)

    # --- events ---------------------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Note what one inotify event asks to read again."""
        mask = event.mask
        if Mask.Q_OVERFLOW in mask:
            self.lost("events were lost: reconciling")
            return
        watch = event.watch
        directory = None if watch is None else self.watched.get(watch.wd)
        if watch is None or directory is None:
            return
        if Mask.IGNORED in mask:
            self._drop(watch.wd)
            return
        if Mask.MOVE_SELF in mask:
            self._forget_below(directory)
        name = None if event.name is None else os.fsencode(event.name)
        for path, depth in targets(directory, name, mask):
            if not self.policy.excluded(path):
                self.enqueue(path, depth)

    def lost(self, why_: str) -> None:
        """Events were lost (or too many paths wait): say so, and reconcile everything."""
        self._warn(why_)
        self.pending.clear()
        self._reconcile_all()

    def _reconcile_all(self) -> None:
        self.announce = True
        for root in self.policy.roots():
            self.enqueue(root, Depth.FULL, delay=0.0)

    def enqueue(self, path: bytes, depth: Depth, tries: int = 0, delay: float | None = None) -> None:
        """Read ``path`` again after the settle time (from its first event), ``depth`` deep."""
        now = asyncio.get_running_loop().time()
        deadline = now + (self.options.settle if delay is None else delay)
        waiting = self.pending.get(path)
        if waiting is not None:
            self.pending[path] = (min(waiting[0], deadline), max(waiting[1], depth), waiting[2])
            return
        if len(self.pending) >= MAX_PENDING:
            self.lost(f"more than {MAX_PENDING} paths changed at once: reconciling")
            return
        if not self.pending or delay == 0.0:
            self._wake.set()
        self.pending[path] = (deadline, depth, tries)

    async def _due(self) -> list[Item]:
        """The waiting paths whose settle time is over (waits for some)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            ready = [(path, depth, tries) for path, (at, depth, tries) in self.pending.items() if at <= now]
            if ready:
                for path, _, _ in ready:
                    del self.pending[path]
                return ready
            self._wake.clear()
            first = min((at for at, _, _ in self.pending.values()), default=None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), None if first is None else first - now)

    async def _process(self, due: list[Item]) -> None:
        items = outermost(due)
        for path, depth, _ in items:
            if depth is not Depth.PATH:
                self.watch_tree(path)
        full = any(depth is Depth.FULL for _, depth, _ in items)
        notices, retry = await asyncio.to_thread(self.examine, items)
        for notice in notices:
            self.sink(notice)
        for path, depth, tries in retry:
            self.enqueue(path, depth, tries + 1)
        if full and self.announce:
            self.announce = False
            self._info(self._status())

    def _status(self) -> str:
        polled = (
            f"; {len(self.unwatched)} trees quick-checked every {self.options.poll:g} s"
            if self.unwatched
            else ""
        )
        return f"reconciled; watching {len(self.watched)} directories{polled}"

    # --- watches --------------------------------------------------------------------------------------

    def watch_tree(self, top: bytes) -> None:
        """Watch ``top`` and every directory below it the policy covers, each before it is listed."""
        rule = self.policy.rule_for(top)
        root = None if rule is None else _lstat(rule.path)
        if root is None or self.policy.excluded(top):
            return
        stack = [(top, root.st_dev)]
        while stack:
            path, dev = stack.pop()
            st = _lstat(path)
            if st is None or not stat.S_ISDIR(st.st_mode):
                continue
            if path in self.policy.by_path:
                dev = st.st_dev  # a rule path starts afresh, on its own filesystem
            elif st.st_dev != dev:
                continue  # a mount point: not entered
            if not self._add_watch(path):
                continue  # gone, or polled instead
            stack.extend((child, dev) for child in self._children(path, st))

    def _children(self, path: bytes, st: os.stat_result) -> list[bytes]:
        try:
            names = list_dir(path, st.st_dev, st.st_ino)
        except OSError:
            return []  # gone or replaced: its events say what happened
        prefix = path.rstrip(b"/") + b"/"
        return [prefix + name for name in names if not self.policy.excluded(prefix + name)]

    def _add_watch(self, path: bytes) -> bool:
        assert self._inotify is not None
        try:
            wd = self.add_watch(self._inotify, path)
        except OSError as exc:
            if exc.errno not in _GONE:
                self._unwatchable(path, exc)
            return False
        self.watched[wd] = path
        self.by_path[path] = wd
        self.unwatched.discard(path)
        return True

    @staticmethod
    def add_watch(inotify: Inotify, path: bytes) -> int:
        """``inotify_add_watch`` of one directory, never through a symlink; its watch descriptor."""
        return inotify.add_watch(path, MASK).wd

    def _unwatchable(self, path: bytes, exc: OSError) -> None:
        if any(path == top or is_below(path, top) for top in self.unwatched):
            return
        self.unwatched.add(path)
        every = f"every {self.options.poll:g} s"
        if exc.errno != errno.ENOSPC:
            self._warn(f"cannot watch {shown_bytes(path)} ({why('inotify', exc)}): quick-checked {every}")
        elif not self.limit_warned:
            self.limit_warned = True
            self._warn(
                f"the inotify watch limit fs.inotify.max_user_watches ({_limit()}) is reached at "
                f"{shown_bytes(path)}: what cannot be watched is quick-checked {every} instead; raise it "
                "with `sysctl fs.inotify.max_user_watches=N` (and a file in /etc/sysctl.d/ to keep it)"
            )

    def _drop(self, wd: int) -> None:
        path = self.watched.pop(wd, None)
        if path is not None and self.by_path.get(path) == wd:
            del self.by_path[path]

    def _forget_below(self, top: bytes) -> None:
        """Remove the watches at and below a directory that moved (they would name its old place)."""
        assert self._inotify is not None
        watches = {watch.wd: watch for watch in self._inotify.watches}
        for wd, path in list(self.watched.items()):
            if path == top or is_below(path, top):
                if wd in watches:
                    with contextlib.suppress(OSError):
                        self._inotify.rm_watch(watches[wd])
                self._drop(wd)

    # --- comparing (in the worker thread) -----------------------------------------------------------

    def examine(self, items: list[Item]) -> tuple[list[Notice], list[Item]]:
        """Each item read again and compared with the baseline: what to tell, and what to try again."""
        notices: list[Notice] = []
        retry: list[Item] = []
        with self._examining:
            try:
                for path, depth, tries in items:
                    changes, errors = self._compare(path, depth)
                    busy = {p for p, e in errors if tries < MAX_RETRIES and any(t in e for t in _TRANSIENT)}
                    if busy:  # still being written: read those again once they settle
                        retry.extend((p, Depth.PATH, tries) for p in sorted(busy, key=path_key))
                        changes = [c for c in changes if c.path not in busy]
                        errors = [(p, e) for p, e in errors if p not in busy]
                    notices.extend(self._news(path, depth, changes, errors, busy))
            except _Stopped:
                pass
        return notices, retry

    def _compare(self, path: bytes, depth: Depth) -> tuple[list[Change], list[tuple[bytes, str]]]:
        errors: list[tuple[bytes, str]] = []
        before = self.index.below(path) if depth else self.index.at(path)
        reuse = QuickReuse(self.index.below(path)) if depth else None
        now = self._checked(self._now(path, depth, reuse), errors)
        return list(compare(before, now, self.policy)), errors

    def _checked(self, entries: Iterable[Entry], errors: list[tuple[bytes, str]]) -> Iterator[Entry]:
        for entry in entries:
            if self._stopping.is_set():
                raise _Stopped
            if entry.error is not None:
                errors.append((entry.path, entry.error))
            yield entry

    def _now(self, path: bytes, depth: Depth, reuse: QuickReuse | None) -> Iterable[Entry]:
        """What is at ``path`` now (and below it, when deep), as a walk would record it."""
        rule = self.policy.rule_for(path)
        try:
            st = os.lstat(path)
        except OSError as exc:
            gone = rule is None or exc.errno in _GONE
            return [] if gone else [Entry(path, Kind.FILE, error=why("lstat", exc))]
        if rule is None:
            return []
        if depth and stat.S_ISDIR(st.st_mode) and self._enterable(path, st):
            workers = self.options.workers if depth is Depth.FULL else 0
            return walk(self._subpolicy(path, rule), reuse=reuse, workers=workers)
        return [self._read(path, st, rule)]

    def _enterable(self, path: bytes, st: os.stat_result) -> bool:
        if path in self.policy.by_path:
            return True
        parent = _lstat(path.rpartition(b"/")[0] or b"/")
        return parent is not None and parent.st_dev == st.st_dev

    def _subpolicy(self, path: bytes, rule: Rule) -> Policy:
        """The policy's rules at and below ``path`` only, ``path`` itself governed as it is now."""
        rules = {r.path: r for r in self.policy.rules if is_below(r.path, path)}
        rules[path] = Rule(path, rule.attrs, rule.group)
        return dataclasses.replace(self.policy, rules=tuple(rules.values()))

    def _read(self, path: bytes, st: os.stat_result, rule: Rule) -> Entry:
        entry = read_entry(path, st, rule.attrs)
        if entry.kind is not Kind.FILE or Attr.HASH not in rule.attrs:
            return entry
        digest, error = hash_file(path, st, self.policy.hash)
        if error is not None:
            error = f"{entry.error}; {error}" if entry.error else error
        return dataclasses.replace(entry, digest=digest, error=error or entry.error)

    def _news(
        self,
        path: bytes,
        depth: Depth,
        changes: list[Change],
        errors: list[tuple[bytes, str]],
        busy: set[bytes],
    ) -> list[Notice]:
        """The changes not reported in this state yet, paths back to their baseline state, new errors."""
        time = self.clock()
        notices = []
        for change in changes:
            if self.reported.fresh(change.path, fingerprint(change)):
                notices.append(Notice(time, change=self.explain(change) if self.explain else change))
        changed = {change.path for change in changes} | busy
        for known in self.reported.under(path, bool(depth)):
            if known not in changed and self.reported.forget(known):
                notices.append(Notice(time, restored=known))
        for where, error in errors:
            if self.unreadable.fresh(where, error.encode()):
                notices.append(Notice(time, warning=f"unreadable: {shown_bytes(where)}: {error}"))
        return notices

    # --- telling --------------------------------------------------------------------------------------

    def _warn(self, text: str) -> None:
        self.sink(Notice(self.clock(), warning=text))

    def _info(self, text: str) -> None:
        self.sink(Notice(self.clock(), info=text))


def _lstat(path: bytes) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _limit() -> str:
    try:
        return Path(LIMIT).read_text().strip()
    except OSError:
        return "unknown"


def run(baseline: Baseline, options: Options, sink: Callable[[Notice], None]) -> None:
    """Watch ``baseline``'s tree until SIGINT or SIGTERM."""
    asyncio.run(_main(baseline, options, sink))


async def _main(baseline: Baseline, options: Options, sink: Callable[[Notice], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    watcher = Watcher(baseline, options, sink)
    try:
        await watcher.run(stop)
    finally:
        watcher.close()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


# --- rendering (pure) -------------------------------------------------------------------------------------


def notice_json(notice: Notice) -> str:
    """One line of JSON: a change as in ``rampart.fim.check/1`` (``restored`` a kind of its own), or a
    warning; each with its ``time``."""
    if notice.change is not None:
        item = _check_item(notice.change)
    elif notice.restored is not None:
        item = {**_check_item(Change(notice.restored, ChangeKind.CHANGED)), "change": "restored"}
    else:
        item = {"warning": unambiguous_text(notice.warning or notice.info or "")}
    return orjson.dumps({**item, "time": notice.time.isoformat()}).decode() + "\n"


def _check_item(change: Change) -> dict[str, object]:
    from rampart.report.fim_json import render_fim_json

    document = orjson.loads(
        render_fim_json(CheckResult((change,)), (change,), datetime.fromtimestamp(0, UTC))
    )
    item: dict[str, object] = document["changes"][0]
    return item


def notice_line(notice: Notice) -> str:
    """One line of text: time, what happened, the path, what changed and why."""
    stamp = notice.time.astimezone().strftime("%H:%M:%S")
    if notice.restored is not None:
        return f"{stamp}  {'restored':<8}  {shown_bytes(notice.restored)}\n"
    if notice.change is None:
        return f"{stamp}  WARNING   {unambiguous_text(notice.warning or notice.info or '')}\n"
    from rampart.report.fim_table import cause_text

    change = notice.change
    what = "; ".join(f"{a.attr.value} {_short(a.before)} -> {_short(a.after)}" for a in change.attrs)
    parts = [stamp, f"{change.kind.value:<8}", shown_bytes(change.path), what, cause_text(change)]
    return "  ".join(part for part in parts if part) + "\n"


def _short(value: str, room: int = 40) -> str:
    text = unambiguous_text(value)
    return text if len(text) <= room else text[: room - 1] + "…"
