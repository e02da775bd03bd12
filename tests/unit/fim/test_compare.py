"""Baseline against now: each watched attribute change is reported once; added, removed and type changes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from rampart.errors import FimError
from rampart.fim.compare import QuickReuse, compare, show_time
from rampart.fim.model import Attr, AttrChange, Change, ChangeKind, Entry, Kind
from rampart.fim.policy import Policy, Rule

FULL = frozenset(Attr) - {Attr.GROWING}
LOG = frozenset({Attr.TYPE, Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.GROWING, Attr.INODE})
POLICY = Policy(
    rules=(Rule(b"/etc", FULL, "full"), Rule(b"/var/log", LOG, "log")),
    exclude_globs=(),
    exclude_regexes=(),
)

BASE = Entry(
    b"/etc/passwd",
    Kind.FILE,
    mode=0o100644,
    uid=0,
    gid=0,
    size=100,
    mtime_ns=1_700_000_000_000_000_001,
    ctime_ns=1_700_000_000_000_000_002,
    inode=10,
    dev=2049,
    nlink=1,
    digest=b"\x01" * 32,
    xattrs=((b"user.a", b"\x02" * 32),),
    acl="user::rw-",
    caps="cap_net_raw=ep",
    selinux="a_t",
)


def changes(before: list[Entry], after: list[Entry], policy: Policy = POLICY) -> list[Change]:
    return list(compare(iter(before), iter(after), policy))


@pytest.mark.parametrize(
    ("field", "value", "attr", "shown_before", "shown_after"),
    [
        ("mode", 0o104755, Attr.MODE, "0644", "4755"),
        ("mode", 0o101644, Attr.MODE, "0644", "1644"),
        ("uid", 1000, Attr.OWNER, "0", "1000"),
        ("gid", 4, Attr.GROUP, "0", "4"),
        ("size", 99, Attr.SIZE, "100", "99"),
        (
            "mtime_ns",
            1_700_000_000_000_000_003,
            Attr.MTIME,
            "2023-11-14T22:13:20.000000001Z",
            "2023-11-14T22:13:20.000000003Z",
        ),
        ("ctime_ns", 0, Attr.CTIME, "2023-11-14T22:13:20.000000002Z", "1970-01-01T00:00:00.000000000Z"),
        ("inode", 11, Attr.INODE, "10", "11"),
        ("nlink", 2, Attr.NLINK, "1", "2"),
        ("digest", b"\x03" * 32, Attr.HASH, "01" * 32, "03" * 32),
        ("xattrs", ((b"user.a", b"\x04" * 32),), Attr.XATTRS, "user.a=" + "02" * 8, "user.a=" + "04" * 8),
        ("xattrs", (), Attr.XATTRS, "user.a=" + "02" * 8, "-"),
        ("acl", "user::rwx", Attr.ACL, "user::rw-", "user::rwx"),
        ("caps", None, Attr.CAPS, "cap_net_raw=ep", "-"),
        ("selinux", "b_t", Attr.SELINUX, "a_t", "b_t"),
    ],
)
def test_each_watched_attribute_change_is_reported_exactly_once(
    field: str, value: Any, attr: Attr, shown_before: str, shown_after: str
) -> None:
    after = dataclasses.replace(BASE, **{field: value})
    assert changes([BASE], [after]) == [
        Change(BASE.path, ChangeKind.CHANGED, (AttrChange(attr, shown_before, shown_after),), BASE, after)
    ]


def test_several_changes_come_in_attribute_order() -> None:
    after = dataclasses.replace(BASE, digest=b"\x00" * 32, uid=5, mode=0o100600)
    (change,) = changes([BASE], [after])
    assert [c.attr for c in change.attrs] == [Attr.MODE, Attr.OWNER, Attr.HASH]


def test_identical_and_unwatched_differences_are_no_change() -> None:
    assert changes([BASE], [BASE]) == []
    assert changes([BASE], [dataclasses.replace(BASE, dev=9)]) == []  # the device is not an attribute
    narrow = Policy((Rule(b"/etc", frozenset({Attr.HASH}), "hash-only"),), (), ())
    assert changes([BASE], [dataclasses.replace(BASE, uid=1, mtime_ns=5, size=1)], narrow) == []


def test_hash_compared_only_when_both_sides_have_one() -> None:
    assert changes([BASE], [dataclasses.replace(BASE, digest=None, error="permission denied")]) == []
    assert changes([dataclasses.replace(BASE, digest=None)], [BASE]) == []


def test_growing_log_may_grow_but_not_shrink() -> None:
    log = Entry(b"/var/log/syslog", Kind.FILE, mode=0o100640, size=1000, mtime_ns=1, digest=None)
    assert changes([log], [dataclasses.replace(log, size=5000, mtime_ns=9, ctime_ns=9)]) == []
    (change,) = changes([log], [dataclasses.replace(log, size=10)])
    assert change.attrs == (AttrChange(Attr.GROWING, "1000", "10"),)


def test_size_and_growing_together_report_once() -> None:
    both = Policy((Rule(b"/", frozenset({Attr.SIZE, Attr.GROWING}), "both"),), (), ())
    (change,) = changes([BASE], [dataclasses.replace(BASE, size=1)], both)
    assert change.attrs == (AttrChange(Attr.SIZE, "100", "1"),)
    (change,) = changes([BASE], [dataclasses.replace(BASE, size=1000)], both)
    assert change.attrs == (AttrChange(Attr.SIZE, "100", "1000"),)


def test_file_replaced_by_directory_is_one_type_change_and_its_children_are_added() -> None:
    directory = Entry(b"/etc/passwd", Kind.DIR, mode=0o40755, size=4096)
    child = Entry(b"/etc/passwd/inner", Kind.FILE)
    result = changes([BASE], [directory, child])
    assert result == [
        Change(BASE.path, ChangeKind.CHANGED, (AttrChange(Attr.TYPE, "f", "d"),), BASE, directory),
        Change(child.path, ChangeKind.ADDED, after=child),
    ]


def test_directory_replaced_by_file_removes_its_children() -> None:
    directory = Entry(b"/etc/x", Kind.DIR)
    child = Entry(b"/etc/x/y", Kind.FILE)
    file = Entry(b"/etc/x", Kind.FILE)
    assert [(c.path, c.kind) for c in changes([directory, child], [file])] == [
        (b"/etc/x", ChangeKind.CHANGED),
        (b"/etc/x/y", ChangeKind.REMOVED),
    ]


def test_type_change_is_reported_even_when_type_is_not_watched() -> None:
    narrow = Policy((Rule(b"/etc", frozenset({Attr.HASH}), "hash-only"),), (), ())
    (change,) = changes([BASE], [Entry(BASE.path, Kind.LINK, link=b"/tmp/evil")], narrow)
    assert change.attrs == (AttrChange(Attr.TYPE, "f", "l"),)


def test_symlink_retarget_shows_both_targets() -> None:
    link = Entry(b"/etc/alt", Kind.LINK, mode=0o120777, link=b"/usr/bin/vim")
    after = dataclasses.replace(link, link=b"/tmp/\xff\x1b[31m")
    (change,) = changes([link], [after])
    assert change.attrs == (AttrChange(Attr.LINK, "/usr/bin/vim", "/tmp/\\xff\x1b[31m"),)


def test_path_under_no_rule_compares_type_only() -> None:
    stray = Entry(b"/srv/x", Kind.FILE, mode=0o100644, digest=b"\x01" * 32)
    assert changes([stray], [dataclasses.replace(stray, mode=0o100777, digest=b"\x02" * 32)]) == []
    (change,) = changes([stray], [Entry(b"/srv/x", Kind.DIR)])
    assert change.attrs[0].attr is Attr.TYPE


def test_added_and_removed_interleave_in_canonical_order() -> None:
    def entry(path: bytes) -> Entry:
        return Entry(path, Kind.FILE)

    before = [entry(p) for p in (b"/etc/a", b"/etc/a/x", b"/etc/c", b"/etc/e")]
    after = [entry(p) for p in (b"/etc/a", b"/etc/a/y", b"/etc/a-b", b"/etc/d", b"/etc/e", b"/etc/f")]
    assert [(c.path, c.kind) for c in changes(before, after)] == [
        (b"/etc/a/x", ChangeKind.REMOVED),
        (b"/etc/a/y", ChangeKind.ADDED),
        (b"/etc/a-b", ChangeKind.ADDED),
        (b"/etc/c", ChangeKind.REMOVED),
        (b"/etc/d", ChangeKind.ADDED),
        (b"/etc/f", ChangeKind.ADDED),
    ]
    assert changes([], []) == []
    assert [c.kind for c in changes(before, [])] == [ChangeKind.REMOVED] * 4
    assert [c.before for c in changes(before, [])] == before


@pytest.mark.parametrize("side", ["baseline", "tree"])
def test_out_of_order_input_is_an_error(side: str) -> None:
    disordered = [Entry(b"/etc/b", Kind.FILE), Entry(b"/etc/a", Kind.FILE)]
    before, after = (disordered, []) if side == "baseline" else ([], disordered)
    with pytest.raises(FimError, match=f"{side} entries are not in canonical order"):
        changes(before, after)


def test_show_time_handles_the_extremes() -> None:
    assert show_time(0) == "1970-01-01T00:00:00.000000000Z"
    assert show_time(-1) == "1969-12-31T23:59:59.999999999Z"
    assert show_time(10**30) == f"{10**30}ns"


def test_quick_reuse_answers_only_for_unchanged_files() -> None:
    other = Entry(b"/etc/shadow", Kind.FILE, size=1, digest=b"\x09" * 32)
    reuse = QuickReuse(iter([Entry(b"/etc", Kind.DIR), BASE, other]))
    assert reuse(Entry(b"/etc", Kind.DIR)) is None
    assert reuse(dataclasses.replace(BASE, digest=None)) == BASE.digest
    assert reuse(dataclasses.replace(other, digest=None, ctime_ns=5)) is None
    assert reuse.hits == 1


@pytest.mark.parametrize("field", ["size", "mtime_ns", "ctime_ns", "inode", "dev"])
def test_quick_reuse_misses_when_any_stat_fact_moved(field: str) -> None:
    reuse = QuickReuse(iter([BASE]))
    assert reuse(dataclasses.replace(BASE, digest=None, **{field: getattr(BASE, field) + 1})) is None
    assert reuse.hits == 0


def test_quick_reuse_misses_new_paths_kind_changes_and_out_of_order_calls() -> None:
    reuse = QuickReuse(iter([BASE, Entry(b"/etc/x", Kind.LINK, link=b"y")]))
    assert reuse(Entry(b"/etc/new", Kind.FILE)) is None
    assert reuse(Entry(b"/etc/x", Kind.FILE)) is None
    assert reuse(dataclasses.replace(BASE, digest=None)) is None  # already passed: hashed again, never wrong
    assert reuse(Entry(b"/zzz", Kind.FILE)) is None
    assert reuse.hits == 0


def test_quick_reuse_never_reuses_a_missing_digest() -> None:
    reuse = QuickReuse(iter([dataclasses.replace(BASE, digest=None)]))
    assert reuse(dataclasses.replace(BASE, digest=None)) is None
