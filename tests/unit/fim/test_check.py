"""A check end to end on a real tree: walk, signed baseline, quick reuse of digests, and the comparison."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampart.fim.baseline import Baseline, new_header, open_baseline, write_baseline
from rampart.fim.check import check
from rampart.fim.model import Attr, ChangeKind, HashName
from rampart.fim.policy import BUILTIN_GROUPS, Policy, Rule
from rampart.fim.signing import Signer, generate_keypair, load_signer
from rampart.fim.walk import walk


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "a.key", tmp_path / "a.pub")
    return load_signer(tmp_path / "a.key")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    for name in ("ls", "cat", "sh"):
        (root / "bin" / name).write_bytes(name.encode() * 1000)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0\n")
    (root / "etc" / "link").symlink_to("passwd")
    return root


def policy_for(root: Path, hash_name: HashName = HashName.SHA256) -> Policy:
    rule = Rule(os.fsencode(root), BUILTIN_GROUPS["full"], "full")
    return Policy((rule,), (), (), hash_name)


def make_baseline(root: Path, signer: Signer, hash_name: HashName = HashName.SHA256) -> Baseline:
    policy = policy_for(root, hash_name)
    path = root.parent / "baseline.rfim"
    write_baseline(
        path, walk(policy, workers=0), new_header(policy.digest(), "", hash_name, host="h"), signer
    )
    return open_baseline(path, signer.verifier(), host="h")


def test_unchanged_tree_has_no_changes_and_quick_check_hashes_nothing(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    quick = check(baseline, policy_for(tree), workers=0)
    assert quick.changes == ()
    assert quick.entries == baseline.header.entries == 8
    assert quick.hashed == 0
    assert quick.notes == ()
    full = check(baseline, policy_for(tree), full=True, workers=0)
    assert full.changes == ()
    assert full.hashed == 4


def test_content_edit_is_found_by_quick_and_full_checks(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    target = tree / "bin" / "ls"
    st = target.stat()
    target.write_bytes(b"X" * st.st_size)  # same size, mtime put back: ctime still moves
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    for full in (False, True):
        result = check(baseline, policy_for(tree), full=full, workers=0)
        (change,) = result.changes
        assert change.path == os.fsencode(target)
        assert Attr.HASH in {a.attr for a in change.attrs}


def test_added_removed_and_retargeted(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer)
    (tree / "bin" / "cat").unlink()
    (tree / "bin" / "nc").write_bytes(b"backdoor")
    (tree / "etc" / "link").unlink()
    (tree / "etc" / "link").symlink_to("/tmp/other")
    result = check(baseline, policy_for(tree), workers=0)
    found = [(c.path.removeprefix(os.fsencode(tree)), c.kind) for c in result.changes]
    assert found == [
        (b"/bin", ChangeKind.CHANGED),  # its mtime and ctime moved
        (b"/bin/cat", ChangeKind.REMOVED),
        (b"/bin/nc", ChangeKind.ADDED),
        (b"/etc", ChangeKind.CHANGED),
        (b"/etc/link", ChangeKind.CHANGED),
    ]
    assert {a.attr for a in result.changes[0].attrs} == {Attr.MTIME, Attr.CTIME}
    link = {a.attr: (a.before, a.after) for a in result.changes[4].attrs}
    assert link[Attr.LINK] == ("passwd", "/tmp/other")
    assert result.hashed == 1


def test_check_uses_the_baselines_hash_and_notes_policy_drift(tree: Path, signer: Signer) -> None:
    baseline = make_baseline(tree, signer, HashName.BLAKE3)
    result = check(baseline, policy_for(tree, HashName.SHA256), workers=0, full=True)
    assert result.changes == ()
    assert any("blake3" in note for note in result.notes)
    assert any("not the one the baseline was made with" in note for note in result.notes)


def test_unreadable_file_is_an_error_not_a_crash(
    tree: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = make_baseline(tree, signer)
    (tree / "bin" / "sh").write_bytes(b"changed")
    real_open = os.open

    def deny(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if isinstance(path, bytes) and path.endswith(b"/bin/sh"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    result = check(baseline, policy_for(tree), workers=0)
    assert [path for path, _ in result.errors] == [os.fsencode(tree / "bin" / "sh")]
    assert result.baseline_created == baseline.header.created
