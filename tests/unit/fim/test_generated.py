"""Generated-file rules: the table, its globs, the bytecode-cache check, kinds, and root prefixes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from rampart.fim.generated import RULES, classify_generated, in_root, rule_for
from rampart.fim.model import Attr, AttrChange, Cause, Change, ChangeKind, Entry, Kind


def _change(
    path: bytes, kind: Kind = Kind.FILE, how: ChangeKind = ChangeKind.CHANGED, link: bytes | None = None
) -> Change:
    entry = Entry(path, kind, link=link)
    attrs = (AttrChange(Attr.HASH, "aa", "bb"),) if how is ChangeKind.CHANGED else ()
    before = None if how is ChangeKind.ADDED else entry
    after = None if how is ChangeKind.REMOVED else entry
    return Change(path, how, attrs, before, after)


@pytest.mark.parametrize(
    ("path", "kind", "link"),
    [
        (b"/etc/ld.so.cache", Kind.FILE, None),
        (b"/var/cache/ldconfig/aux-cache", Kind.FILE, None),
        (b"/usr/share/mime/mime.cache", Kind.FILE, None),
        (b"/usr/share/mime/application/pdf.xml", Kind.FILE, None),
        (b"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache", Kind.FILE, None),
        (b"/usr/share/icons/hicolor/icon-theme.cache", Kind.FILE, None),
        (b"/etc/apparmor.d/cache/usr.sbin.cupsd", Kind.FILE, None),
        (b"/var/cache/man/index.db", Kind.FILE, None),
        (b"/usr/lib/locale/locale-archive", Kind.FILE, None),
        (b"/etc/ssl/certs/4042bcee.0", Kind.LINK, b"ISRG_Root_X1.pem"),
        (b"/etc/ssl/certs/ca-certificates.crt", Kind.FILE, None),
        (b"/boot/initrd.img-6.1.0-18-amd64", Kind.FILE, None),
        (b"/etc/alternatives/editor", Kind.LINK, b"/bin/nano"),
        (b"/usr/bin/editor", Kind.LINK, b"/etc/alternatives/editor"),
        (b"/usr/share/info/dir", Kind.FILE, None),
    ],
)
def test_each_listed_kind_of_generated_file_is_explained_with_its_reason(
    path: bytes, kind: Kind, link: bytes | None
) -> None:
    change = classify_generated(_change(path, kind, link=link))
    rule = rule_for(change)
    assert change.cause is Cause.GENERATED
    assert rule is not None and change.note == rule.reason


@pytest.mark.parametrize(
    ("path", "kind", "link"),
    [
        (b"/etc/ld.so.cache.d/x", Kind.FILE, None),  # a name, not a prefix
        (b"/etc/ld.so.conf", Kind.FILE, None),
        (b"/usr/share/mime/packages/evil.xml", Kind.FILE, None),  # packages' sources, not the database
        (b"/usr/share/icons/hicolor/48x48/icon-theme.cache", Kind.FILE, None),  # * stays in one name
        (b"/etc/ssl/certs/4042bcee.0", Kind.FILE, None),  # a regular file where hash links live
        (b"/etc/alternatives/editor", Kind.FILE, None),
        (b"/usr/bin/editor", Kind.LINK, b"/usr/bin/nano"),
        (b"/usr/bin/editor", Kind.FILE, None),
        (b"/boot/vmlinuz-6.1.0-18-amd64", Kind.FILE, None),
        (b"/etc/passwd", Kind.FILE, None),
    ],
)
def test_near_misses_stay_unexplained(path: bytes, kind: Kind, link: bytes | None) -> None:
    change = _change(path, kind, link=link)
    assert classify_generated(change) is change
    assert rule_for(change) is None


def test_every_rule_has_a_one_line_reason() -> None:
    assert all(rule.reason and "\n" not in rule.reason for rule in RULES)
    assert len({(rule.pattern, rule.kinds) for rule in RULES}) == len(RULES)


def _pyc(
    tmp_path: Path, *, size: int | None = None, mtime: int | None = None, flags: int = 0
) -> tuple[Path, Path]:
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text("x = 1\n")
    os.utime(source, (1_700_000_000, 1_700_000_000))
    st = source.stat()
    cache = source.parent / "__pycache__" / "mod.cpython-311.pyc"
    cache.parent.mkdir(exist_ok=True)
    fields = (flags, st.st_mtime if mtime is None else mtime, st.st_size if size is None else size)
    cache.write_bytes(b"\xa7\r\r\n" + struct.pack("<III", *(int(f) for f in fields)) + b"code")
    return source, cache


def test_bytecode_whose_header_names_the_source_beside_it_is_generated(tmp_path: Path) -> None:
    _, cache = _pyc(tmp_path)
    change = classify_generated(_change(os.fsencode(cache)), tmp_path)
    assert change.cause is Cause.GENERATED


@pytest.mark.parametrize("field", ["size", "mtime"])
def test_bytecode_naming_another_source_is_not_generated(tmp_path: Path, field: str) -> None:
    _, cache = _pyc(tmp_path, **{field: 12345})
    assert classify_generated(_change(os.fsencode(cache)), tmp_path).cause is Cause.UNEXPLAINED


def test_bytecode_without_its_source_is_not_generated_unless_removed(tmp_path: Path) -> None:
    source, cache = _pyc(tmp_path)
    source.unlink()
    assert classify_generated(_change(os.fsencode(cache)), tmp_path).cause is Cause.UNEXPLAINED
    removed = _change(os.fsencode(cache), how=ChangeKind.REMOVED)
    assert classify_generated(removed, tmp_path).cause is Cause.GENERATED


def test_hash_based_bytecode_needs_only_its_source(tmp_path: Path) -> None:
    _, cache = _pyc(tmp_path, flags=1, size=1, mtime=1)
    assert classify_generated(_change(os.fsencode(cache)), tmp_path).cause is Cause.GENERATED


def test_truncated_or_symlinked_bytecode_is_not_generated(tmp_path: Path) -> None:
    _, cache = _pyc(tmp_path)
    cache.write_bytes(b"\xa7\r\r\n")
    assert classify_generated(_change(os.fsencode(cache)), tmp_path).cause is Cause.UNEXPLAINED
    cache.unlink()
    cache.symlink_to(tmp_path / "elsewhere.pyc")
    assert classify_generated(_change(os.fsencode(cache)), tmp_path).cause is Cause.UNEXPLAINED


def test_rules_match_paths_as_seen_inside_the_root() -> None:
    root = Path("/srv/images/web1")
    inside = _change(b"/srv/images/web1/etc/ld.so.cache")
    assert classify_generated(inside, root).cause is Cause.GENERATED
    outside = _change(b"/etc/ld.so.cache")
    assert classify_generated(outside, root).cause is Cause.UNEXPLAINED
    sibling = _change(b"/srv/images/web10/etc/ld.so.cache")
    assert classify_generated(sibling, root).cause is Cause.UNEXPLAINED


def test_in_root() -> None:
    assert in_root(b"/usr/bin/env", Path("/")) == b"/usr/bin/env"
    assert in_root(b"/r/usr/bin/env", Path("/r")) == b"/usr/bin/env"
    assert in_root(b"/r", Path("/r")) == b"/"
    assert in_root(b"/rx/usr", Path("/r")) is None


def test_an_already_explained_change_is_left_alone() -> None:
    change = Change(b"/etc/ld.so.cache", ChangeKind.CHANGED, cause=Cause.PACKAGE, package="libc-bin")
    assert classify_generated(change) is change


def test_non_utf8_names_are_matched_without_errors() -> None:
    change = _change(b"/usr/share/mime/\xff\xfe.xml")
    assert classify_generated(change).cause is Cause.GENERATED
    assert classify_generated(_change(b"/etc/\xff")).cause is Cause.UNEXPLAINED
