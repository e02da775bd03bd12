"""The real-time watcher on real inotify: trees in tmp_path, a signed baseline, the watcher in a thread.

Every wait polls what the watcher reported, with a generous limit that only turns a hang into a failure;
nothing asserts how fast a report came. "Reported once" is checked behind a barrier: a later change (a
sentinel) whose report can only come after any repeat of the earlier ones.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from asyncinotify import Event, Inotify, Mask

from rampart.fim import lifecycle
from rampart.fim.model import Attr, Change, ChangeKind, CheckResult, Entry, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import BUILTIN_GROUPS, Policy, Rule
from rampart.fim.signing import generate_keypair, load_signer
from rampart.fim.watch import (
    BaselineIndex,
    Depth,
    Notice,
    Options,
    Watcher,
    notice_json,
    notice_line,
    outermost,
    targets,
)
from rampart.report.fim_json import render_fim_json

WAIT = 30.0  # only a guard against a hang
STEADY = frozenset({Attr.TYPE, Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.SIZE, Attr.LINK, Attr.HASH})


class Running:
    """A tree, its signed baseline and a watcher running in its own thread and event loop."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.tree = base / "tree"
        self.notices: list[Notice] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop: asyncio.Event | None = None
        self.watcher: Watcher | None = None

    def record(self) -> None:
        """A baseline of the tree: every attribute under bin/, steady ones (no times) under etc/."""
        generate_keypair(self.base / "k.key", self.base / "k.pub")
        signer = load_signer(self.base / "k.key")
        rules = (
            Rule(os.fsencode(self.tree), BUILTIN_GROUPS["full"], "full"),
            Rule(os.fsencode(self.tree / "etc"), STEADY, "steady"),
        )
        policy = Policy(rules, ("**/*.swp",), ())
        lifecycle.init(self.base / "baseline.rfim", policy, signer, workers=0, progress=None)

    def start(self, options: Options | None = None, prepare: Callable[[Watcher], None] | None = None) -> None:
        signer = load_signer(self.base / "k.key")
        baseline = lifecycle.open_verified(self.base / "baseline.rfim", signer.verifier())
        options = options or Options(packages=False, workers=0)
        self.watcher = Watcher(baseline, options, self._sink)
        if prepare is not None:
            prepare(self.watcher)
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(WAIT)
        self.wait(lambda n: n.info is not None and "reconciled" in n.info)

    def _run(self, started: threading.Event) -> None:
        async def main() -> None:
            assert self.watcher is not None
            self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
            started.set()
            try:
                await self.watcher.run(self.stop)
            finally:
                self.watcher.close()

        asyncio.run(main())

    def finish(self) -> None:
        if self.loop is not None and self.stop is not None and self.thread is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
            self.thread.join(WAIT)
            assert not self.thread.is_alive(), "the watcher did not stop"

    def _sink(self, notice: Notice) -> None:
        with self.lock:
            self.notices.append(notice)

    def wait(self, match: Callable[[Notice], bool]) -> Notice:
        """The first notice that matches, once there is one."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.lock:
                found = next((n for n in self.notices if match(n)), None)
            if found is not None:
                return found
            time.sleep(0.02)
        raise AssertionError(f"never reported; got {[_brief(n) for n in self.all()]}")

    def all(self) -> list[Notice]:
        with self.lock:
            return list(self.notices)

    def about(self, path: Path) -> list[Notice]:
        raw = os.fsencode(path)
        return [n for n in self.all() if (n.change is not None and n.change.path == raw) or n.restored == raw]

    def change(self, path: Path, kind: ChangeKind = ChangeKind.CHANGED) -> Change:
        raw = os.fsencode(path)
        notice = self.wait(lambda n: n.change is not None and n.change.path == raw and n.change.kind is kind)
        assert notice.change is not None
        return notice.change

    def barrier(self, name: str = "sentinel") -> None:
        """A change made now and reported: anything the earlier changes still had to say came before it."""
        sentinel = self.tree / "bin" / name
        sentinel.write_text("sentinel\n")
        self.change(sentinel, ChangeKind.ADDED)

    def call(self, function: Callable[[], object]) -> None:
        """Run ``function`` on the watcher's event loop."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(function)


def _brief(notice: Notice) -> tuple[str, bytes | str | None]:
    if notice.change is not None:
        return notice.change.kind.value, notice.change.path
    if notice.restored is not None:
        return "restored", notice.restored
    return "said", notice.warning or notice.info


def attrs(change: Change) -> set[str]:
    return {a.attr.value for a in change.attrs}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    made = Running(tmp_path)
    (made.tree / "bin").mkdir(parents=True)
    for name in ("mode", "content", "old", "gone", "steady"):
        (made.tree / "bin" / name).write_bytes(f"{name}\n".encode() * 10)
    (made.tree / "bin" / "link").symlink_to("steady")
    (made.tree / "etc").mkdir()
    (made.tree / "etc" / "conf").write_text("setting = 1\n")
    (made.tree / "deep" / "er").mkdir(parents=True)
    (made.tree / "deep" / "er" / "file").write_text("deep\n")
    made.record()
    try:
        yield made
    finally:
        made.finish()


def test_each_change_is_reported_once_with_its_attributes(running: Running) -> None:
    running.start()
    assert [n for n in running.all() if n.change or n.restored or n.warning] == []
    bin_dir = running.tree / "bin"

    (bin_dir / "new").write_text("new\n")
    assert running.change(bin_dir / "new", ChangeKind.ADDED).after is not None
    assert "mtime" in attrs(running.change(bin_dir))  # the directory whose entries changed

    content = bin_dir / "content"
    subprocess.run(["touch", "-r", str(content), str(running.base / "stamp")], check=True)
    same_size = "X" * content.stat().st_size
    script = 'printf %s "$1" > "$2" && touch -r "$3" "$2"'  # new content, the old mtime put back
    subprocess.run(
        ["sh", "-c", script, "sh", same_size, str(content), str(running.base / "stamp")], check=True
    )
    assert attrs(running.change(content)) == {"hash", "ctime"}

    (bin_dir / "mode").chmod(0o4755)
    assert attrs(running.change(bin_dir / "mode")) == {"mode", "ctime"}

    (bin_dir / "old").rename(bin_dir / "renamed")
    running.change(bin_dir / "old", ChangeKind.REMOVED)
    running.change(bin_dir / "renamed", ChangeKind.ADDED)

    (bin_dir / "gone").unlink()
    running.change(bin_dir / "gone", ChangeKind.REMOVED)

    (bin_dir / "sub").mkdir()
    (bin_dir / "sub" / "inside").write_text("made before the watch, maybe\n")
    running.change(bin_dir / "sub", ChangeKind.ADDED)
    running.change(bin_dir / "sub" / "inside", ChangeKind.ADDED)
    (bin_dir / "sub" / "later").write_text("made under the new watch\n")
    running.change(bin_dir / "sub" / "later", ChangeKind.ADDED)

    subprocess.run(["ln", "-sfn", "mode", str(bin_dir / "link")], check=True)
    link = running.change(bin_dir / "link")
    assert "link" in attrs(link) and link.after is not None and link.after.link == b"mode"

    (bin_dir / "skipped.swp").write_text("excluded\n")
    running.barrier()
    names = ("new", "content", "mode", "old", "renamed", "gone", "sub", "sub/inside", "sub/later", "link")
    for name in names:
        assert len(running.about(bin_dir / name)) == 1, running.about(bin_dir / name)
    assert running.about(bin_dir / "skipped.swp") == []
    assert running.about(bin_dir / "steady") == []
    assert all(n.warning is None for n in running.all())


def test_a_renamed_directory_is_removed_at_its_old_place_and_watched_at_its_new_one(running: Running) -> None:
    running.start()
    deep = running.tree / "deep"
    (deep / "er").rename(deep / "moved")
    running.change(deep / "er" / "file", ChangeKind.REMOVED)
    running.change(deep / "moved" / "file", ChangeKind.ADDED)
    (deep / "moved" / "file").write_text("changed after the move\n")
    (deep / "moved" / "after").write_text("new\n")
    running.change(deep / "moved" / "after", ChangeKind.ADDED)
    running.barrier()
    assert running.about(deep / "er" / "after") == []  # the old watch does not speak for the new place
    assert len(running.about(deep / "moved" / "file")) == 1  # added; its new content is still "added"
    (deep / "moved").rename(running.base / "outside")  # out of the tree: no longer watched
    running.wait(lambda n: n.restored == os.fsencode(deep / "moved" / "after"))  # absent, as in the baseline
    (running.base / "outside" / "late").write_text("not ours\n")
    running.barrier("second-sentinel")
    assert running.watcher is not None
    assert os.fsencode(deep / "moved") not in running.watcher.watched.values()
    assert set(running.watcher.watched.values()) == {
        os.fsencode(running.tree / d) for d in ("", "bin", "etc", "deep")
    } | {os.fsencode(running.tree)}


def test_a_path_back_to_its_baseline_state_is_restored_and_a_same_state_is_not_repeated(
    running: Running,
) -> None:
    running.start()
    conf = running.tree / "etc" / "conf"
    conf.chmod(0o600)
    assert attrs(running.change(conf)) == {"mode"}  # etc/ watches no times
    conf.chmod(0o600)  # an event, the same state
    conf.chmod(0o644)
    running.wait(lambda n: n.restored == os.fsencode(conf))
    (running.tree / "etc" / "brief").write_text("here for a moment\n")
    running.change(running.tree / "etc" / "brief", ChangeKind.ADDED)
    (running.tree / "etc" / "brief").unlink()
    running.wait(lambda n: n.restored == os.fsencode(running.tree / "etc" / "brief"))
    running.barrier()
    assert [bool(n.restored) for n in running.about(conf)] == [False, True]
    assert [bool(n.restored) for n in running.about(running.tree / "etc" / "brief")] == [False, True]
    assert running.about(running.tree / "etc") == []  # its times are not watched


def test_changes_made_while_stopped_are_reported_at_start(running: Running) -> None:
    (running.tree / "bin" / "mode").chmod(0o700)
    (running.tree / "deep" / "er" / "file").unlink()
    (running.tree / "deep" / "er" / "made").write_text("while nothing watched\n")
    running.start()
    notices = running.all()
    ready = next(i for i, n in enumerate(notices) if n.info and "reconciled" in n.info)
    before = {n.change.path: n.change.kind for n in notices[:ready] if n.change is not None}
    tree = os.fsencode(running.tree)
    assert before[tree + b"/bin/mode"] is ChangeKind.CHANGED
    assert before[tree + b"/deep/er/file"] is ChangeKind.REMOVED
    assert before[tree + b"/deep/er/made"] is ChangeKind.ADDED
    running.barrier()
    assert len(running.about(running.tree / "bin" / "mode")) == 1


def test_lost_events_warn_then_reconcile_and_new_directories_get_watched(running: Running) -> None:
    running.start()
    assert running.watcher is not None
    handle = running.watcher.handle
    running.watcher.handle = lambda event: None  # type: ignore[method-assign]  # every event is lost
    (running.tree / "bin" / "mode").chmod(0o711)
    (running.tree / "bin" / "unseen").mkdir()
    (running.tree / "bin" / "unseen" / "file").write_text("x\n")
    running.call(lambda: handle(Event(None, Mask.Q_OVERFLOW, 0, None)))
    running.wait(lambda n: n.warning == "events were lost: reconciling")
    running.change(running.tree / "bin" / "mode")
    running.change(running.tree / "bin" / "unseen" / "file", ChangeKind.ADDED)
    running.watcher.handle = handle  # type: ignore[method-assign]
    (running.tree / "bin" / "unseen" / "second").write_text("y\n")  # watched by the reconcile
    running.change(running.tree / "bin" / "unseen" / "second", ChangeKind.ADDED)
    running.barrier()
    assert len(running.about(running.tree / "bin" / "mode")) == 1
    warning = next(n for n in running.all() if n.warning)
    assert orjson.loads(notice_json(warning))["warning"] == "events were lost: reconciling"


def test_the_watch_limit_warns_and_the_tree_it_could_not_watch_is_polled(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = os.fsencode(running.tree / "deep")
    real = Watcher.add_watch

    def limited(inotify: Inotify, path: bytes) -> int:
        if path == deep or path.startswith(deep + b"/"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(inotify, path)

    polls: list[int] = []

    def count_polls(watcher: Watcher) -> None:
        examine = watcher.examine

        def counting(items: list[tuple[bytes, Depth, int]]) -> object:
            polls.extend(1 for path, depth, _ in items if path == deep and depth is Depth.FULL)
            return examine(items)

        watcher.examine = counting  # type: ignore[method-assign,assignment]

    monkeypatch.setattr(Watcher, "add_watch", staticmethod(limited))
    running.start(Options(packages=False, workers=0, poll=0.2), prepare=count_polls)
    warning = running.wait(lambda n: n.warning is not None and "max_user_watches" in n.warning)
    assert warning.warning is not None and "sysctl fs.inotify.max_user_watches=" in warning.warning
    assert running.watcher is not None and running.watcher.unwatched == {deep}
    (running.tree / "deep" / "er" / "file").write_text("changed where nothing watches\n")
    assert "hash" in attrs(running.change(running.tree / "deep" / "er" / "file"))
    seen = len(polls)
    running.wait(lambda n: len(polls) >= seen + 2)  # two more quick checks of that tree: no repeat
    assert len(running.about(running.tree / "deep" / "er" / "file")) == 1
    assert len([n for n in running.all() if n.warning]) == 1


def test_an_event_names_the_path_and_the_directory_whose_entries_changed() -> None:
    assert targets(b"/d", b"f", Mask.MODIFY) == [(b"/d/f", Depth.PATH)]
    assert targets(b"/d", b"f", Mask.CREATE) == [(b"/d/f", Depth.PATH), (b"/d", Depth.PATH)]
    assert targets(b"/d", b"s", Mask.MOVED_FROM | Mask.ISDIR) == [(b"/d/s", Depth.TREE), (b"/d", Depth.PATH)]
    assert targets(b"/d", None, Mask.ATTRIB | Mask.ISDIR) == [(b"/d", Depth.PATH)]
    assert targets(b"/d", None, Mask.MOVE_SELF) == [(b"/d", Depth.TREE)]
    assert targets(b"/", b"etc", Mask.ATTRIB) == [(b"/etc", Depth.PATH)]
    items = [
        (b"/a/b/c", Depth.PATH, 0),
        (b"/a-z", Depth.PATH, 0),
        (b"/a/b", Depth.TREE, 0),
        (b"/a", Depth.PATH, 0),
    ]
    assert outermost(items) == [(b"/a", Depth.PATH, 0), (b"/a/b", Depth.TREE, 0), (b"/a-z", Depth.PATH, 0)]


def test_the_baseline_index_answers_a_path_and_its_tree_in_canonical_order() -> None:
    paths = [b"/", b"/a", b"/a/b", b"/a/b/c", b"/a-b", b"/a.b", b"/ab", b"/b"]
    index = BaselineIndex(Entry(p, Kind.DIR) for p in sorted(paths, key=path_key))
    try:
        assert [e.path for e in index.below(b"/a")] == [b"/a", b"/a/b", b"/a/b/c"]
        assert [e.path for e in index.below(b"/")] == sorted(paths, key=path_key)
        assert [e.path for e in index.at(b"/a-b")] == [b"/a-b"]
        assert index.at(b"/nothing") == [] and list(index.below(b"/nothing")) == []
    finally:
        index.close()


def test_a_reported_change_has_the_check_fields_and_its_time_and_names_are_escaped() -> None:
    before = Entry(b"/x/\x1b[2Jevil", Kind.FILE, mode=0o644)
    change = Change(before.path, ChangeKind.CHANGED, (), before, Entry(before.path, Kind.FILE, mode=0o755))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    line = notice_json(Notice(when, change=change))
    assert line.endswith("\n") and line.count("\n") == 1
    item = orjson.loads(line)
    expected = orjson.loads(render_fim_json(CheckResult((change,)), (change,), when))["changes"][0]
    assert item == {**expected, "time": "2026-01-02T03:04:05+00:00"}
    restored = orjson.loads(notice_json(Notice(when, restored=b"/x/y")))
    assert restored["change"] == "restored" and restored["path"] == "/x/y"
    text = notice_line(Notice(when, change=change))
    assert "\x1b" not in text and "\\x1b[2Jevil" in text
