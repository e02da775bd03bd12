"""The quick check's shortcut on a real tree: unchanged paths are settled from their lstat alone (nothing
decoded, hashed or read beyond it), and every change that shortcut could miss is still reported."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from rampart.fim import check as check_module
from rampart.fim import collect, quick
from rampart.fim.baseline import Baseline, new_header, open_baseline, write_baseline
from rampart.fim.check import check
from rampart.fim.model import Attr, ChangeKind, HashName
from rampart.fim.policy import BUILTIN_GROUPS, Policy, Rule
from rampart.fim.signing import Signer, generate_keypair, load_signer
from rampart.fim.walk import walk

ODD_NAMES = ('quo"te', "back\\slash", "new\nline", "caf\udce9")  # escaped or base64 in a baseline line


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub")
    return load_signer(tmp_path / "a.key")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    for name in ("ls", "cat", "sh", *ODD_NAMES):
        (root / "bin" / name).write_bytes(name.encode("utf-8", "surrogateescape") * 100)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0\n")
    (root / "etc" / "link").symlink_to("passwd")
    (root / "etc" / "odd-link").symlink_to("pass\\wd")
    os.mkfifo(root / "etc" / "fifo")
    return root


def policy_for(root: Path, group: str = "full") -> Policy:
    rule = Rule(os.fsencode(root), BUILTIN_GROUPS[group], group)
    return Policy((rule,), (), (), HashName.SHA256)


def make_baseline(root: Path, signer: Signer, group: str = "full") -> Baseline:
    policy = policy_for(root, group)
    path = root.parent / "baseline.rfim"
    header = new_header(policy.digest(), "", HashName.SHA256, host="h")
    write_baseline(path, walk(policy, workers=0), header, signer)
    return open_baseline(path, signer.verifier(), host="h")


def quick_check(baseline: Baseline, root: Path, group: str = "full") -> list[tuple[bytes, set[Attr]]]:
    result = check(baseline, policy_for(root, group), workers=0)
    assert result.entries == sum(1 for _ in walk(policy_for(root, group), workers=0))
    return [(c.path.removeprefix(os.fsencode(root)), {a.attr for a in c.attrs}) for c in result.changes]


def test_an_unchanged_tree_is_settled_without_reading_xattrs_or_hashing(
    tree: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = make_baseline(tree, signer)
    read: list[bytes] = []
    real = collect.read_xattrs

    def read_xattrs(path: bytes, attrs: frozenset[Attr]) -> collect.XattrFacts:
        read.append(path)
        return real(path, attrs)

    monkeypatch.setattr(collect, "read_xattrs", read_xattrs)
    made: list[quick.QuickLines] = []

    class Kept(quick.QuickLines):
        def __init__(self, lines: Iterable[bytes]) -> None:
            super().__init__(lines)
            made.append(self)

    monkeypatch.setattr(check_module, "QuickLines", Kept)
    result = check(baseline, policy_for(tree), workers=0)
    assert (result.changes, result.errors, result.hashed) == ((), (), 0)
    assert result.entries == baseline.header.entries
    odd = 1 + len(ODD_NAMES)  # these names (and the link to an odd target) take the usual way
    assert made[0].settled == baseline.header.entries - odd
    assert sorted(read) == sorted(
        [os.fsencode(tree / "bin" / name) for name in ODD_NAMES] + [os.fsencode(tree / "etc" / "odd-link")]
    )


def test_content_changed_with_size_and_mtime_put_back_is_found(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    for name in ("ls", *ODD_NAMES):
        target = tree / "bin" / name
        st = target.stat()
        target.write_bytes(b"X" * st.st_size)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # as `touch -r`: only ctime tells
    found = quick_check(baseline, tree)
    assert [path for path, _ in found] == sorted(
        (os.fsencode(f"/bin/{name}") for name in ("ls", *ODD_NAMES)), key=lambda p: p.replace(b"/", b"\0")
    )
    assert all({Attr.HASH, Attr.CTIME} <= attrs for _, attrs in found)


def test_a_mode_change_is_found(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    (tree / "bin" / "sh").chmod(0o4755)
    (tree / "etc").chmod(0o700)
    found = dict(quick_check(baseline, tree))
    assert Attr.MODE in found[b"/bin/sh"] and Attr.MODE in found[b"/etc"]


def test_an_xattr_change_is_found(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    try:
        os.setxattr(tree / "bin" / "cat", "user.mark", b"v")
    except OSError as exc:
        pytest.skip(f"no user xattrs here: {exc}")
    os.setxattr(tree / "etc", "user.mark", b"v")
    found = dict(quick_check(baseline, tree))
    assert Attr.XATTRS in found[b"/bin/cat"] and Attr.XATTRS in found[b"/etc"]


def test_an_xattr_change_is_found_by_a_group_that_does_not_watch_ctime(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer, group="dir")  # type, mode, owner, group, xattrs, acl, selinux
    try:
        os.setxattr(tree / "bin" / "cat", "user.mark", b"v")
    except OSError as exc:
        pytest.skip(f"no user xattrs here: {exc}")
    assert quick_check(baseline, tree, group="dir") == [(b"/bin/cat", {Attr.XATTRS})]


def test_a_retargeted_symlink_and_a_replaced_file_are_found(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    (tree / "etc" / "link").unlink()
    (tree / "etc" / "link").symlink_to("shadow")
    (tree / "etc" / "odd-link").unlink()
    (tree / "etc" / "odd-link").symlink_to("pass\\wd2")
    st = (tree / "bin" / "cat").stat()
    (tree / "bin" / "cat").unlink()
    (tree / "bin" / "cat").write_bytes(b"cat" * 100)  # a new file, same bytes, old mtime
    os.utime(tree / "bin" / "cat", ns=(st.st_atime_ns, st.st_mtime_ns))
    found = dict(quick_check(baseline, tree))
    assert Attr.LINK in found[b"/etc/link"] and Attr.LINK in found[b"/etc/odd-link"]
    assert Attr.CTIME in found[b"/bin/cat"] and Attr.HASH not in found[b"/bin/cat"]  # hashed again: same


def test_added_and_removed_around_settled_paths(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    shutil.rmtree(tree / "etc")
    (tree / "bin" / "nc").write_bytes(b"backdoor")
    (tree / "zz").mkdir()
    result = check(baseline, policy_for(tree), workers=0)
    kinds = [(c.path.removeprefix(os.fsencode(tree)), c.kind) for c in result.changes]
    assert kinds == [
        (b"", ChangeKind.CHANGED),
        (b"/bin", ChangeKind.CHANGED),
        (b"/bin/nc", ChangeKind.ADDED),
        (b"/etc", ChangeKind.REMOVED),
        (b"/etc/fifo", ChangeKind.REMOVED),
        (b"/etc/link", ChangeKind.REMOVED),
        (b"/etc/odd-link", ChangeKind.REMOVED),
        (b"/etc/passwd", ChangeKind.REMOVED),
        (b"/zz", ChangeKind.ADDED),
    ]
    assert result.hashed == 1


def test_progress_counts_settled_paths_too(
    tree: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = make_baseline(tree, signer)
    monkeypatch.setattr(quick, "PROGRESS_EVERY", 2)
    counts: list[int] = []
    check(baseline, policy_for(tree), workers=0, progress=counts.append)
    assert counts[-1] == baseline.header.entries
    assert counts == sorted(counts) and len(counts) > 2
