"""Walking a policy's trees: order, kinds, excludes, nested rules, filesystems, errors, reuse and the hash pool."""

from __future__ import annotations

import errno
import hashlib
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from rampart.fim import collect, hashpool, walk
from rampart.fim.hashpool import Batch, HashPool
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import Policy, parse_policy


def policy_for(root: Path, extra: str = "", hash_name: str = "sha256", group: str = "full") -> Policy:
    text = f"version: 1\nhash: {hash_name}\nrules:\n  - {{path: '{root}', group: {group}}}\n{extra}"
    return parse_policy(text, "test.yaml")


def run(policy: Policy, workers: int = 0, **kwargs: object) -> list[Entry]:
    return list(walk.walk(policy, workers=workers, **kwargs))  # type: ignore[arg-type]


def by_path(entries: list[Entry]) -> dict[bytes, Entry]:
    return {e.path: e for e in entries}


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a.b").write_bytes(b"dot")
    (root / "a-b").write_bytes(b"dash")
    (root / "a" / "b" / "c").write_bytes(b"deep")
    (root / "a" / "z").write_bytes(b"zz")
    os.symlink("a", root / "link-to-dir")
    os.mkfifo(root / "fifo")
    (root / os.fsdecode(b"caf\xe9")).write_bytes(b"latin-1 name")
    os.link(root / "a" / "z", root / "hard")
    return root


def test_every_path_in_canonical_order_with_digests_for_files(tree: Path) -> None:
    entries = run(policy_for(tree))
    paths = [e.path for e in entries]
    r = bytes(tree)
    assert paths == sorted(paths, key=path_key)
    assert paths == [
        r,
        r + b"/a",
        r + b"/a/b",
        r + b"/a/b/c",
        r + b"/a/z",
        r + b"/a-b",
        r + b"/a.b",
        r + b"/caf\xe9",
        r + b"/fifo",
        r + b"/hard",
        r + b"/link-to-dir",
    ]
    got = by_path(entries)
    assert got[r + b"/a/b/c"].digest == sha(b"deep")
    assert got[r + b"/caf\xe9"].digest == sha(b"latin-1 name")
    assert got[r].kind is Kind.DIR and got[r].digest is None
    assert got[r + b"/fifo"].kind is Kind.FIFO and got[r + b"/fifo"].digest is None
    assert got[r + b"/link-to-dir"].link == b"a" and got[r + b"/link-to-dir"].digest is None
    assert all(e.error is None for e in entries)


def test_symlinks_are_never_followed(tree: Path) -> None:
    paths = [e.path for e in run(policy_for(tree))]
    assert not any(p.startswith(bytes(tree / "link-to-dir") + b"/") for p in paths)


def test_a_root_that_is_a_symlink_is_one_entry(tree: Path) -> None:
    entries = run(policy_for(tree / "link-to-dir"))
    assert [(e.path, e.kind) for e in entries] == [(bytes(tree / "link-to-dir"), Kind.LINK)]


def test_a_missing_root_yields_nothing(tmp_path: Path) -> None:
    assert run(policy_for(tmp_path / "nope")) == []


def test_hard_links_are_two_paths_to_one_inode(tree: Path) -> None:
    got = by_path(run(policy_for(tree)))
    first, second = got[bytes(tree / "a" / "z")], got[bytes(tree / "hard")]
    assert first.inode == second.inode and first.nlink == second.nlink == 2
    assert first.digest == second.digest == sha(b"zz")


def test_a_fifo_is_never_opened(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[bytes] = []
    real = collect.open_file

    def open_file(path: bytes) -> int:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(collect, "open_file", open_file)
    run(policy_for(tree))
    assert bytes(tree / "fifo") not in opened
    assert sorted(opened) == sorted(
        bytes(tree / n) for n in ("a/b/c", "a/z", "a-b", "a.b", "caf\udce9", "hard")
    )


def test_a_sparse_file_digest(tmp_path: Path) -> None:
    with (tmp_path / "sparse").open("wb") as f:
        f.truncate(9 << 20)
    (entry,) = run(policy_for(tmp_path / "sparse"))
    assert entry.digest == sha(b"\0" * (9 << 20))


def test_groups_without_hash_get_no_digest(tree: Path) -> None:
    entries = run(policy_for(tree, group="log"))
    assert len(entries) == 11 and all(e.digest is None for e in entries)


def test_blake3_is_the_default(tree: Path) -> None:
    import blake3

    got = by_path(run(policy_for(tree, hash_name="blake3")))
    assert got[bytes(tree / "a.b")].digest == blake3.blake3(b"dot").digest()


def test_excluded_paths_and_what_is_below_them_are_left_out(tree: Path) -> None:
    extra = f"exclude:\n  - glob: '{tree}/a'\n  - regex: 'fifo$'\n  - glob: '**/*.b'\n"
    paths = {e.path for e in run(policy_for(tree, extra))}
    assert paths == {bytes(tree / n) for n in ("", "a-b", "caf\udce9", "hard", "link-to-dir")} | {bytes(tree)}


def test_a_rule_below_an_excluded_directory_is_still_walked(tree: Path) -> None:
    text = (
        f"version: 1\nhash: sha256\nrules:\n  - {{path: '{tree}'}}\n  - {{path: '{tree}/a/b', group: log}}\n"
        f"exclude:\n  - glob: '{tree}/a'\n"
    )
    entries = run(parse_policy(text, "t"))
    paths = [e.path for e in entries]
    assert paths == sorted(paths, key=path_key)
    assert bytes(tree / "a") not in paths and bytes(tree / "a" / "z") not in paths
    got = by_path(entries)
    assert got[bytes(tree / "a" / "b" / "c")].digest is None  # the nested rule's group: log, no hash
    assert got[bytes(tree / "a.b")].digest == sha(b"dot")


def test_nested_rules_decide_their_subtree(tree: Path) -> None:
    text = (
        f"version: 1\nhash: sha256\nrules:\n  - {{path: '{tree}', group: dir}}\n  - {{path: '{tree}/a/b'}}\n"
    )
    got = by_path(run(parse_policy(text, "t")))
    assert got[bytes(tree / "a" / "z")].digest is None
    assert got[bytes(tree / "a" / "b" / "c")].digest == sha(b"deep")


def test_xattrs_are_read_during_the_walk(tree: Path) -> None:
    os.setxattr(tree / "a.b", "user.mark", b"v")
    got = by_path(run(policy_for(tree)))
    assert got[bytes(tree / "a.b")].xattrs == ((b"user.mark", sha(b"v")),)


def test_a_deep_tree(tmp_path: Path) -> None:
    path = tmp_path / "deep"
    path.mkdir()
    for _ in range(500):
        path = path / "d"
        path.mkdir()
    (path / "leaf").write_bytes(b"bottom")
    entries = run(policy_for(tmp_path / "deep"))
    assert len(entries) == 502
    assert entries[-1].path == bytes(path / "leaf") and entries[-1].digest == sha(b"bottom")


def test_an_unreadable_directory_is_an_entry_with_an_error_and_no_children(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = walk.list_dir

    def list_dir(path: bytes, dev: int, inode: int) -> list[bytes]:
        if path == bytes(tree / "a"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, dev, inode)

    monkeypatch.setattr(walk, "list_dir", list_dir)
    got = by_path(run(policy_for(tree)))
    assert got[bytes(tree / "a")].error == "cannot list directory: Permission denied"
    assert got[bytes(tree / "a")].kind is Kind.DIR
    assert not any(p.startswith(bytes(tree / "a") + b"/") for p in got)
    assert got[bytes(tree / "a.b")].digest == sha(b"dot")


def test_a_directory_swapped_for_a_symlink_is_never_listed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree / "elsewhere").mkdir()
    (tree / "elsewhere" / "planted").write_bytes(b"x")
    real = os.lstat

    def lstat(path: bytes) -> os.stat_result:
        st = real(path)
        if path == bytes(tree / "a"):  # seen as the directory, then swapped before it is listed
            os.rename(tree / "a", tree / "old-a")
            os.symlink(tree / "elsewhere", tree / "a")
        return st

    monkeypatch.setattr(os, "lstat", lstat)
    got = by_path(run(policy_for(tree)))
    assert got[bytes(tree / "a")].error == "replaced while read"
    assert bytes(tree / "a" / "planted") not in got


def test_a_directory_swapped_for_another_is_never_listed(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.lstat

    def lstat(path: bytes) -> os.stat_result:
        st = real(path)
        if path == bytes(tree / "a"):
            os.rename(tree / "a", tree / "old-a")
            (tree / "a").mkdir()
            (tree / "a" / "planted").write_bytes(b"x")
        return st

    monkeypatch.setattr(os, "lstat", lstat)
    got = by_path(run(policy_for(tree)))
    assert got[bytes(tree / "a")].error == "replaced while read"
    assert bytes(tree / "a" / "planted") not in got


def test_a_path_that_cannot_be_lstated_is_an_error_entry(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.lstat

    def lstat(path: bytes) -> os.stat_result:
        if path == bytes(tree / "a-b"):
            raise PermissionError(errno.EACCES, "Permission denied")
        if path == bytes(tree / "a.b"):
            raise FileNotFoundError(errno.ENOENT, "gone")
        return real(path)

    monkeypatch.setattr(os, "lstat", lstat)
    got = by_path(run(policy_for(tree)))
    assert got[bytes(tree / "a-b")].error == "lstat: Permission denied"
    assert bytes(tree / "a.b") not in got  # vanished since listed: simply not there


def test_another_filesystem_is_not_entered(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.lstat

    def lstat(path: bytes) -> os.stat_result:
        st = real(path)
        if path == bytes(tree / "a") or path.startswith(bytes(tree / "a") + b"/"):
            values = list(st[:10])
            values[2] = st.st_dev + 1  # a mount point, and what is on that filesystem
            ns = {"st_atime_ns": st.st_atime_ns, "st_mtime_ns": st.st_mtime_ns, "st_ctime_ns": st.st_ctime_ns}
            return os.stat_result(values, ns)
        return st

    monkeypatch.setattr(os, "lstat", lstat)
    list_dir = walk.list_dir  # the descriptor it lists shows the real device: let it through
    monkeypatch.setattr(walk, "list_dir", lambda path, dev, inode: list_dir(path, real(path).st_dev, inode))
    paths = [e.path for e in run(policy_for(tree))]
    assert bytes(tree / "a") in paths
    assert not any(p.startswith(bytes(tree / "a") + b"/") for p in paths)
    nested = f"version: 1\nrules:\n  - {{path: '{tree}'}}\n  - {{path: '{tree}/a'}}\n"
    paths = [e.path for e in run(parse_policy(nested, "t"))]  # a rule names it: entered
    assert bytes(tree / "a" / "b" / "c") in paths


def test_a_file_changed_while_hashed_keeps_its_facts_with_an_error(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = collect.read_into
    target = os.lstat(tree / "a.b").st_ino

    def read_into(fd: int, hasher: collect.Hasher) -> int:
        total = real(fd, hasher)
        if os.fstat(fd).st_ino == target:
            with (tree / "a.b").open("ab") as f:
                f.write(b"!")
        return total

    monkeypatch.setattr(collect, "read_into", read_into)
    got = by_path(run(policy_for(tree)))
    changed = got[bytes(tree / "a.b")]
    assert (changed.digest, changed.error, changed.size) == (None, "changed while read", 3)
    assert got[bytes(tree / "a-b")].digest == sha(b"dash")


def test_reuse_answers_digests_and_only_the_rest_is_hashed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[bytes] = []
    real = collect.hash_batch

    def hash_batch(
        items: list[tuple[bytes, collect.Expect]], name: str
    ) -> list[tuple[bytes | None, str | None]]:
        hashed.extend(path for path, _ in items)
        return real(items, name)

    monkeypatch.setattr(hashpool, "hash_batch", hash_batch)
    known = {bytes(tree / "a.b"): b"K" * 32, bytes(tree / "hard"): b"H" * 32}
    asked: list[bytes] = []

    def reuse(entry: Entry) -> bytes | None:
        assert entry.digest is None and entry.kind is Kind.FILE
        asked.append(entry.path)
        return known.get(entry.path)

    got = by_path(run(policy_for(tree), reuse=reuse))
    assert got[bytes(tree / "a.b")].digest == b"K" * 32
    assert got[bytes(tree / "hard")].digest == b"H" * 32
    assert got[bytes(tree / "a-b")].digest == sha(b"dash")
    assert sorted(hashed) == sorted(set(asked) - set(known))
    assert bytes(tree / "fifo") not in asked


def test_progress_is_reported_up_to_the_final_count(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walk, "PROGRESS_EVERY", 4)
    counts: list[int] = []
    entries = run(policy_for(tree), progress=counts.append)
    assert counts == [4, 8, len(entries)]


def many_files(root: Path, count: int) -> dict[bytes, bytes]:
    contents = {}
    for i in range(count):
        directory = root / f"d{i % 7}"
        directory.mkdir(parents=True, exist_ok=True)
        data = os.urandom(i * 997 % 50_000)
        (directory / f"f{i:04}").write_bytes(data)
        contents[bytes(directory / f"f{i:04}")] = sha(data)
    return contents


def test_worker_processes_give_the_same_walk_as_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contents = many_files(tmp_path / "many", 300)
    monkeypatch.setattr(walk, "BATCH_FILES", 5)  # many batches, the in-flight bound reached often
    monkeypatch.setattr(walk, "MAX_WAITING", 17)
    inline = run(policy_for(tmp_path / "many"), workers=0)
    pooled = run(policy_for(tmp_path / "many"), workers=2)
    assert pooled == inline
    assert {e.path: e.digest for e in pooled if e.kind is Kind.FILE} == contents
    assert multiprocessing.active_children() == []


def test_abandoning_a_walk_stops_its_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many_files(tmp_path / "many", 100)
    monkeypatch.setattr(walk, "BATCH_FILES", 3)
    walking = walk.walk(policy_for(tmp_path / "many"), workers=2)
    first = [next(walking) for _ in range(20)]
    assert first[0].path == bytes(tmp_path / "many")
    walking.close()
    assert multiprocessing.active_children() == []


def batch_of(paths: list[Path]) -> Batch:
    batch = Batch()
    for path in paths:
        st = os.lstat(path)
        batch.items.append((bytes(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
    return batch


def test_a_dead_worker_loses_no_batch(tmp_path: Path) -> None:
    files = []
    for i in range(6):
        (tmp_path / f"f{i}").write_bytes(bytes([i]) * 10)
        files.append(tmp_path / f"f{i}")
    pool = HashPool(HashName.SHA256, 2)
    try:
        first = batch_of(files[:2])
        pool.submit(first)
        assert pool.ready(first, wait=True)
        victim = pool.workers[0].process
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        victim.join()
        later = [batch_of(files[2:4]), batch_of(files[4:])]
        for batch in later:
            pool.submit(batch)
        for batch in later:
            assert pool.ready(batch, wait=True)
        results = [r for b in (first, *later) for r in (b.results or [])]
        assert results == [(sha(bytes([i]) * 10), None) for i in range(6)]
        assert len(pool.workers) == 1
    finally:
        pool.close()
    assert multiprocessing.active_children() == []


def test_walks_are_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many_files(tmp_path / "many", 50)
    listed: list[bytes] = []
    real = walk.list_dir

    def list_dir(path: bytes, dev: int, inode: int) -> list[bytes]:
        listed.append(path)
        return real(path, dev, inode)

    monkeypatch.setattr(walk, "list_dir", list_dir)
    walking = walk.walk(policy_for(tmp_path / "many", group="dir"), workers=0)
    assert next(walking).path == bytes(tmp_path / "many")
    assert len(listed) == 1  # one directory listed so far, not the tree
    walking.close()


def test_attrs_of_the_rule_are_what_is_read(tree: Path) -> None:
    os.setxattr(tree / "a.b", "user.mark", b"v")
    got = by_path(run(policy_for(tree, group="log")))
    assert got[bytes(tree / "a.b")].xattrs == ()
    assert Attr.XATTRS not in parse_policy("version: 1\nrules: [{path: /, group: log}]", "t").rules[0].attrs
