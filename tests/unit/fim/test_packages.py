"""Package awareness: hand-made dpkg and rpm databases, hostile ones, and how changes are classified."""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from rampart.errors import ParseError
from rampart.fim import packages
from rampart.fim.model import Attr, AttrChange, Cause, Change, ChangeKind, Entry, Kind
from rampart.fim.packages import PackageIndex, classify, explain, link_target
from rampart.inventory import rpm
from unit.inventory.rpm_helpers import INT32, header_blob, package_entries, write_rpmdb

INFO = "var/lib/dpkg/info"


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _put(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _package(
    root: Path, name: str, files: dict[str, bytes], dirs: tuple[str, ...] = ("/usr", "/usr/bin")
) -> None:
    """Install ``files`` (in-root path -> content) under root and record them as dpkg would."""
    lines = [b"/.", *(d.encode() for d in dirs)]
    sums: list[bytes] = []
    for rel, data in files.items():
        _put(root, rel.lstrip("/"), data)
        lines.append(rel.encode())
        sums.append(f"{_md5(data)}  {rel.lstrip('/')}".encode())
    _put(root, f"{INFO}/{name}.list", b"\n".join(lines) + b"\n")
    _put(root, f"{INFO}/{name}.md5sums", b"\n".join(sums) + b"\n")


def _status(root: Path, text: str) -> None:
    _put(root, "var/lib/dpkg/status", text.encode())


def _entry(path: Path) -> Entry:
    st = os.lstat(path)
    kinds = {stat.S_IFREG: Kind.FILE, stat.S_IFDIR: Kind.DIR, stat.S_IFLNK: Kind.LINK}
    link = os.readlink(os.fsencode(path)) if stat.S_ISLNK(st.st_mode) else None
    return Entry(
        os.fsencode(path),
        kinds[stat.S_IFMT(st.st_mode)],
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
        st.st_nlink,
        link,
    )


def _changed(path: Path, *attrs: Attr) -> Change:
    entry = _entry(path)
    return Change(entry.path, ChangeKind.CHANGED, tuple(AttrChange(a, "1", "2") for a in attrs), entry, entry)


def _added(path: Path) -> Change:
    entry = _entry(path)
    return Change(entry.path, ChangeKind.ADDED, after=entry)


def _removed(root: Path, rel: str, kind: Kind = Kind.FILE) -> Change:
    path = os.fsencode(root / rel.lstrip("/"))
    return Change(path, ChangeKind.REMOVED, before=Entry(path, kind))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root with coreutils (env, cat), base-files (a conffile) and a status file."""
    _package(tmp_path, "coreutils", {"/usr/bin/env": b"env binary", "/usr/bin/cat": b"cat binary"})
    _package(tmp_path, "base-files", {}, dirs=("/etc",))
    _put(tmp_path, "etc/issue", b"Debian\n")
    _put(tmp_path, f"{INFO}/base-files.list", b"/.\n/etc\n/etc/issue\n")
    _status(
        tmp_path,
        "Package: base-files\nStatus: install ok installed\nConffiles:\n"
        f" /etc/issue {_md5(b'Debian' + bytes([10]))}\n /etc/old.conf 0123456789abcdef0123456789abcdef obsolete\n"
        "Description: x\n more text\n\n"
        "Package: coreutils\nStatus: install ok installed\n",
    )
    return tmp_path


# --- the index ------------------------------------------------------------------------------------------


def test_owners_and_digests_come_from_lists_md5sums_and_conffiles(root: Path) -> None:
    index = PackageIndex.load(root)
    env = index.expected(b"/usr/bin/env")
    assert env is not None and (env.package, env.algorithm, env.digest.hex()) == (
        "coreutils",
        "md5",
        _md5(b"env binary"),
    )
    assert not env.conffile
    issue = index.expected(b"/etc/issue")
    assert issue is not None and issue.conffile and not issue.obsolete and issue.package == "base-files"
    old = index.expected(b"/etc/old.conf")
    assert old is not None and old.obsolete
    assert index.owner(b"/usr/bin") == "coreutils"
    assert index.owner(b"/etc") == "base-files"
    assert index.owner(b"/usr/bin/missing") is None and index.expected(b"/usr/bin/missing") is None
    assert index.expected(b"/usr/bin") is None  # a directory: owned, no digest
    assert index.owner(b"/") is None  # "/." is not a path anybody owns
    assert index.notes == ()


def test_the_index_is_read_on_first_lookup_not_on_load(tmp_path: Path) -> None:
    index = PackageIndex.load(tmp_path)
    _package(tmp_path, "late", {"/usr/bin/late": b"x"})
    assert index.owner(b"/usr/bin/late") == "late"
    _package(tmp_path, "later", {"/usr/bin/later": b"x"})
    assert index.owner(b"/usr/bin/later") is None  # built once
    assert len(index) == 3


def test_an_md5sums_line_counts_only_for_a_path_its_package_still_lists(tmp_path: Path) -> None:
    _package(tmp_path, "new", {"/usr/bin/tool": b"new tool"})
    _put(tmp_path, f"{INFO}/old.list", b"/.\n/usr\n")  # dpkg took /usr/bin/tool out of old's list
    _put(tmp_path, f"{INFO}/old.md5sums", f"{_md5(b'old tool')}  usr/bin/tool\n".encode())
    expected = PackageIndex.load(tmp_path).expected(b"/usr/bin/tool")
    assert expected is not None and (expected.package, expected.digest.hex()) == ("new", _md5(b"new tool"))


def test_merged_usr_top_level_links_are_followed(tmp_path: Path) -> None:
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    _package(tmp_path, "coreutils", {"/bin/cat": b"cat"}, dirs=("/bin",))
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/usr/bin/cat") == index.owner(b"/bin/cat") == "coreutils"
    assert index.owner(b"/usr/bin") == "coreutils"


def test_a_top_level_link_leaving_the_root_is_not_an_alias(tmp_path: Path) -> None:
    (tmp_path / "bin").symlink_to("../../usr/bin")
    _put(tmp_path, f"{INFO}/p.list", b"/bin/cat\n")
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/bin/cat") == "p"
    assert index.owner(b"/usr/bin/cat") is None


def test_diversions_move_other_packages_files_not_the_diverters(tmp_path: Path) -> None:
    _put(tmp_path, f"{INFO}/bash.list", b"/usr/bin/sh\n")
    _put(tmp_path, f"{INFO}/bash.md5sums", f"{_md5(b'bash sh')}  usr/bin/sh\n".encode())
    _put(tmp_path, f"{INFO}/dash.list", b"/usr/bin/sh\n")
    _put(tmp_path, f"{INFO}/dash.md5sums", f"{_md5(b'dash sh')}  usr/bin/sh\n".encode())
    _put(tmp_path, f"{INFO}/vim.list", b"/usr/bin/vi\n")
    _put(
        tmp_path,
        "var/lib/dpkg/diversions",
        b"/usr/bin/sh\n/usr/bin/sh.distrib\ndash\n/usr/bin/vi\n/usr/bin/vi.real\n:\n",
    )
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/usr/bin/sh") == "dash"
    distrib = index.expected(b"/usr/bin/sh.distrib")
    assert distrib is not None and (distrib.package, distrib.digest.hex()) == ("bash", _md5(b"bash sh"))
    assert index.owner(b"/usr/bin/vi") is None  # a local diversion moves every package's file
    assert index.owner(b"/usr/bin/vi.real") == "vim"


def test_status_conffiles_edge_cases(tmp_path: Path) -> None:
    _status(
        tmp_path,
        "Package: libfoo\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\n"
        "Conffiles:\n /etc/foo bar.conf d41d8cd98f00b204e9800998ecf8427e\n /etc/new.conf newconffile\n"
        " /etc/gone.conf d41d8cd98f00b204e9800998ecf8427e remove-on-upgrade obsolete\n\n"
        "Package: purged\nStatus: purge ok not-installed\nConffiles:\n /etc/purged d41d8cd98f00b204e9800998ecf8427e\n\n"
        "Package: rc\nStatus: deinstall ok config-files\nConffiles:\n /etc/rc.conf d41d8cd98f00b204e9800998ecf8427e\n",
    )
    (tmp_path / INFO).mkdir(parents=True)
    index = PackageIndex.load(tmp_path)
    spaced = index.expected(b"/etc/foo bar.conf")
    assert spaced is not None and spaced.package == "libfoo:amd64" and spaced.conffile
    assert index.owner(b"/etc/new.conf") == "libfoo:amd64" and index.expected(b"/etc/new.conf") is None
    gone = index.expected(b"/etc/gone.conf")
    assert gone is not None and gone.obsolete
    assert index.owner(b"/etc/purged") is None
    assert index.owner(b"/etc/rc.conf") == "rc"


def test_non_utf8_paths_are_indexed_as_bytes(tmp_path: Path) -> None:
    _put(tmp_path, f"{INFO}/latin1.list", b"/usr/share/caf\xe9\n")
    _put(tmp_path, f"{INFO}/latin1.md5sums", f"{_md5(b'x')}  usr/share/caf".encode() + b"\xe9\n")
    expected = PackageIndex.load(tmp_path).expected(b"/usr/share/caf\xe9")
    assert expected is not None and expected.package == "latin1"


# --- hostile and broken databases: one note each, never an exception ---------------------------------


def test_malformed_lines_are_counted_in_one_note_and_good_lines_kept(tmp_path: Path) -> None:
    good = f"{_md5(b'ok')}  usr/bin/ok"
    bad = [
        b"not a line",
        b"0123  usr/bin/short",
        b"Z" * 32 + b"  usr/bin/upper",
        f"{_md5(b'x')}  ".encode() + b"\x00nul",
    ]
    _put(tmp_path, f"{INFO}/p.list", b"/usr/bin/ok\nrelative/path\n/" + b"a" * 5000 + b"\n")
    _put(tmp_path, f"{INFO}/p.md5sums", b"\n".join([good.encode(), *bad]) + b"\n")
    index = PackageIndex.load(tmp_path)
    assert index.expected(b"/usr/bin/ok") is not None
    assert f"{INFO}/p.list: 2 malformed line(s) skipped" in index.notes
    assert f"{INFO}/p.md5sums: 4 malformed line(s) skipped" in index.notes
    assert any("status" in note for note in index.notes)  # missing status file


def test_oversized_symlinked_and_special_info_files_are_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packages, "MAX_INFO_SIZE", 100)
    _put(tmp_path, f"{INFO}/huge.list", b"/usr/bin/x\n" * 50)
    _put(tmp_path, "secret", b"/etc/shadow\n")
    (tmp_path / INFO / "link.list").symlink_to(tmp_path / "secret")
    os.mkfifo(tmp_path / INFO / "fifo.list")  # never opened for blocking reads
    _put(tmp_path, f"{INFO}/ok.list", b"/usr/bin/ok\n")
    index = PackageIndex.load(tmp_path)
    notes = "\n".join(index.notes)
    assert f"{INFO}/huge.list: larger than 100 bytes" in notes
    assert f"{INFO}/link.list:" in notes and index.owner(b"/etc/shadow") is None
    assert f"{INFO}/fifo.list: not a regular file" in notes
    assert index.owner(b"/usr/bin/ok") == "ok" and index.owner(b"/usr/bin/x") is None


def test_broken_diversions_and_binary_status_do_not_stop_the_index(tmp_path: Path) -> None:
    _put(tmp_path, f"{INFO}/p.list", b"/usr/bin/p\n")
    _put(tmp_path, "var/lib/dpkg/diversions", b"/usr/bin/p\n/usr/bin/p.real\n")
    _status(tmp_path, "")
    (tmp_path / "var/lib/dpkg/status").write_bytes(b"\x00\xff\xfe garbage\nConffiles:\n\xff\n\n:::\n")
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/usr/bin/p") == "p"
    assert any("2 lines is not a whole number" in note for note in index.notes)


def test_a_malformed_conffiles_line_is_a_note(tmp_path: Path) -> None:
    (tmp_path / INFO).mkdir(parents=True)
    _status(
        tmp_path,
        "Package: p\nStatus: install ok installed\nConffiles:\n relative d41d8cd98f00b204e9800998ecf8427e\n /etc/ok d41d8cd98f00b204e9800998ecf8427e\n",
    )
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/etc/ok") == "p"
    assert index.notes == ("var/lib/dpkg/status: 1 malformed Conffiles line(s) skipped",)


def test_no_package_database_is_an_empty_index_without_notes(tmp_path: Path) -> None:
    index = PackageIndex.load(tmp_path)
    assert len(index) == 0 and index.owner(b"/usr/bin/env") is None and index.notes == ()


# --- rpm ------------------------------------------------------------------------------------------------

STRING_ARRAY = 8


def _strings(tag: int, values: list[bytes]) -> tuple[int, int, bytes, int]:
    return (tag, STRING_ARRAY, b"".join(v + b"\x00" for v in values), len(values))


def _ints(tag: int, values: list[int]) -> tuple[int, int, bytes, int]:
    return (tag, INT32, struct.pack(f">{len(values)}I", *values), len(values))


def _rpm_files(name: str, files: dict[bytes, bytes], *, algo: int = 8, config: bytes = b"") -> bytes:
    dirs = sorted({path.rpartition(b"/")[0] + b"/" for path in files})
    names = list(files)
    digests = [
        hashlib.new(rpm_algo(algo), data).hexdigest().encode() if data else b"" for data in files.values()
    ]
    entries = package_entries(name, "1.0", "1.el9")
    entries += [
        _strings(rpm.BASENAMES, [p.rpartition(b"/")[2] for p in names]),
        _strings(rpm.DIRNAMES, dirs),
        _ints(rpm.DIRINDEXES, [dirs.index(p.rpartition(b"/")[0] + b"/") for p in names]),
        _strings(rpm.FILEDIGESTS, digests),
        _ints(rpm.FILEFLAGS, [rpm.RPMFILE_CONFIG if p == config else 0 for p in names]),
        _ints(rpm.FILEDIGESTALGO, [algo]),
    ]
    return header_blob(entries)


def rpm_algo(code: int) -> str:
    return packages.ALGORITHMS[code]


def test_rpm_files_digests_and_config_flags_are_indexed(tmp_path: Path) -> None:
    blobs: list[object] = [
        _rpm_files(
            "bash",
            {b"/usr/bin/bash": b"bash", b"/etc/bashrc": b"rc", b"/usr/share/bash": b""},
            config=b"/etc/bashrc",
        ),
        _rpm_files("md5pkg", {b"/usr/bin/old": b"old"}, algo=1),
        header_blob(package_entries("gpg-pubkey", "1", "2")),  # no files at all
    ]
    write_rpmdb(tmp_path / "var/lib/rpm/rpmdb.sqlite", blobs)
    index = PackageIndex.load(tmp_path)
    bash = index.expected(b"/usr/bin/bash")
    assert bash is not None and (bash.package, bash.algorithm, bash.digest) == (
        "bash",
        "sha256",
        hashlib.sha256(b"bash").digest(),
    )
    bashrc = index.expected(b"/etc/bashrc")
    assert bashrc is not None and bashrc.conffile
    assert index.owner(b"/usr/share/bash") == "bash" and index.expected(b"/usr/share/bash") is None
    old = index.expected(b"/usr/bin/old")
    assert old is not None and old.algorithm == "md5"
    assert index.notes == ()


def test_a_malformed_rpm_header_is_one_note_and_the_others_are_kept(tmp_path: Path) -> None:
    broken = header_blob(
        [*package_entries("bad", "1", "1"), _strings(rpm.BASENAMES, [b"x"]), _ints(rpm.DIRINDEXES, [5])]
    )
    good = _rpm_files("good", {b"/usr/bin/good": b"g"})
    write_rpmdb(tmp_path / "usr/lib/sysimage/rpm/rpmdb.sqlite", [broken, good, b"\x00\x00"])
    index = PackageIndex.load(tmp_path)
    assert index.owner(b"/usr/bin/good") == "good"
    assert len(index.notes) == 1 and index.notes[0].startswith(
        "usr/lib/sysimage/rpm/rpmdb.sqlite: 2 malformed header(s)"
    )


def test_an_rpmdb_that_is_not_sqlite_is_a_note(tmp_path: Path) -> None:
    _put(tmp_path, "var/lib/rpm/rpmdb.sqlite", b"not a database at all")
    index = PackageIndex.load(tmp_path)
    assert index.notes == ("var/lib/rpm/rpmdb.sqlite: not an SQLite database",)


@pytest.mark.parametrize(
    "entries",
    [
        [_strings(rpm.BASENAMES, [b"a", b"b"]), _ints(rpm.DIRINDEXES, [0])],  # lengths differ
        [
            _strings(rpm.BASENAMES, [b"a"]),
            _ints(rpm.DIRINDEXES, [0]),
            _strings(rpm.FILEDIGESTS, [b"x", b"y"]),
        ],
        [_strings(rpm.BASENAMES, [b"a"]), _ints(rpm.DIRINDEXES, [1]), _strings(rpm.DIRNAMES, [b"/"])],
        [(rpm.BASENAMES, STRING_ARRAY, b"no terminator", 1)],
        [(rpm.BASENAMES, STRING_ARRAY, b"a\x00", 1_000_000)],  # a count larger than the data store
        [(rpm.DIRINDEXES, INT32, b"\x00\x00\x00\x00", 1000)],  # an int array running past the data
        [(rpm.BASENAMES, INT32, b"\x00\x00\x00\x00", 1)],  # wrong type
    ],
)
def test_hostile_rpm_file_lists_raise_parse_errors(entries: list[tuple[int, int, bytes, int]]) -> None:
    with pytest.raises(ParseError):
        rpm.header_files(header_blob([*package_entries("p", "1", "1"), *entries]))


def test_a_header_without_file_tags_has_no_files_and_md5_by_default() -> None:
    assert rpm.header_files(header_blob(package_entries("p", "1", "1"))) == (1, [])


# --- classify ---------------------------------------------------------------------------------------------


def test_a_rewritten_file_matching_its_package_is_a_package_change(root: Path) -> None:
    change = classify(
        _changed(root / "usr/bin/env", Attr.INODE, Attr.CTIME, Attr.MTIME), PackageIndex.load(root), root
    )
    assert (change.cause, change.package) == (Cause.PACKAGE, "coreutils")
    assert change.note == "content matches its package's md5"


def test_a_packaged_file_edited_by_hand_is_package_modified(root: Path) -> None:
    (root / "usr/bin/env").write_bytes(b"#!/bin/sh\nexec evil\n")
    change = classify(_changed(root / "usr/bin/env", Attr.HASH, Attr.SIZE), PackageIndex.load(root), root)
    assert (change.cause, change.package) == (Cause.PACKAGE_MODIFIED, "coreutils")


@pytest.mark.parametrize(
    "attr", [Attr.MODE, Attr.OWNER, Attr.GROUP, Attr.CAPS, Attr.ACL, Attr.SELINUX, Attr.XATTRS]
)
def test_security_attributes_are_never_explained_by_a_package(
    root: Path, attr: Attr, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_hashing(*args: object) -> None:
        raise AssertionError("nothing to hash for this change")

    monkeypatch.setattr(packages, "digest_file", no_hashing)
    change = classify(_changed(root / "usr/bin/env", attr, Attr.CTIME), PackageIndex.load(root), root)
    assert (change.cause, change.package) == (Cause.UNEXPLAINED, "coreutils")
    assert change.note is not None and str(attr) in change.note


def test_conffiles_edited_are_for_review_pristine_ones_are_explained(root: Path) -> None:
    index = PackageIndex.load(root)
    pristine = classify(_changed(root / "etc/issue", Attr.INODE), index, root)
    assert (pristine.cause, pristine.package) == (Cause.PACKAGE, "base-files")
    (root / "etc/issue").write_bytes(b"Welcome to prod\n")
    edited = classify(_changed(root / "etc/issue", Attr.HASH), index, root)
    assert (edited.cause, edited.package) == (Cause.UNEXPLAINED, "base-files")


def test_removals(root: Path) -> None:
    index = PackageIndex.load(root)
    listed = classify(_removed(root, "/usr/bin/cat"), index, root)
    assert (listed.cause, listed.package) == (Cause.PACKAGE_MODIFIED, "coreutils")
    conffile = classify(_removed(root, "/etc/issue"), index, root)
    assert (conffile.cause, conffile.package) == (Cause.UNEXPLAINED, "base-files")
    unlisted = classify(_removed(root, "/usr/bin/uninstalled"), index, root)
    assert (unlisted.cause, unlisted.package) == (Cause.PACKAGE, None)


def test_a_removal_no_package_explains_is_hidden_only_when_the_package_manager_ran(root: Path) -> None:
    from rampart.fim.packages import explain_all

    index = PackageIndex.load(root)
    dropped = _removed(root, "/etc/sudoers.d/ops")
    alone = explain_all([dropped], index, root)
    assert [(c.cause, c.package) for c in alone] == [(Cause.UNEXPLAINED, None)]
    status = _changed(root / "var/lib/dpkg/status", Attr.HASH)
    with_upgrade = explain_all([dropped, status], index, root)
    assert [c.cause for c in with_upgrade] == [Cause.PACKAGE, Cause.PACKAGE]


def test_additions(root: Path) -> None:
    _package(root, "nano", {"/usr/bin/nano": b"nano"})
    _put(root, "usr/bin/dropper", b"evil")
    index = PackageIndex.load(root)
    nano = classify(_added(root / "usr/bin/nano"), index, root)
    assert (nano.cause, nano.package) == (Cause.PACKAGE, "nano")
    dropper = classify(_added(root / "usr/bin/dropper"), index, root)
    assert dropper == _added(root / "usr/bin/dropper")  # untouched: unexplained, no package


def test_an_added_file_differing_from_its_new_package_is_package_modified(root: Path) -> None:
    _package(root, "nano", {"/usr/bin/nano": b"nano"})
    (root / "usr/bin/nano").write_bytes(b"trojan")
    change = classify(_added(root / "usr/bin/nano"), PackageIndex.load(root), root)
    assert (change.cause, change.package) == (Cause.PACKAGE_MODIFIED, "nano")


def test_a_file_replaced_after_the_walk_is_not_vouched_for(root: Path) -> None:
    change = _changed(root / "usr/bin/env", Attr.INODE)
    path = root / "usr/bin/env"
    path.unlink()
    path.write_bytes(b"env binary")  # same content, another inode than the walk saw
    classified = classify(change, PackageIndex.load(root), root)
    assert (classified.cause, classified.note) == (
        Cause.UNEXPLAINED,
        "could not be read again to compare with its package",
    )


def test_package_manager_state_is_explained(root: Path) -> None:
    status = _changed(root / "var/lib/dpkg/status", Attr.HASH)
    assert classify(status, PackageIndex.load(root), root).cause is Cause.PACKAGE
    lists = Change(os.fsencode(root / "var/lib/apt/lists/deb.debian.org_InRelease"), ChangeKind.ADDED)
    assert classify(lists, PackageIndex.load(root), root).note == "apt's state and package lists"
    near = Change(os.fsencode(root / "var/lib/dpkgx"), ChangeKind.ADDED)
    assert classify(near, PackageIndex.load(root), root).cause is Cause.UNEXPLAINED


def test_directories_and_symlinks(root: Path) -> None:
    (root / "usr/bin/rcat").symlink_to("cat")
    (root / "usr/bin/out").symlink_to("/etc/shadow")
    _put(root, f"{INFO}/extra.list", b"/usr/bin/rcat\n/usr/bin/out\n")
    index = PackageIndex.load(root)
    directory = classify(_changed(root / "usr/bin", Attr.MTIME, Attr.CTIME, Attr.NLINK), index, root)
    assert directory.cause is Cause.PACKAGE
    retargeted = classify(_changed(root / "usr/bin/rcat", Attr.LINK), index, root)
    assert (retargeted.cause, retargeted.package) == (Cause.PACKAGE, "extra")
    outward = classify(_added(root / "usr/bin/out"), index, root)
    assert (outward.cause, outward.package) == (Cause.UNEXPLAINED, "extra")


def test_a_packaged_file_swapped_for_a_symlink_is_package_modified(root: Path) -> None:
    path = root / "usr/bin/env"
    path.unlink()
    path.symlink_to("cat")
    change = classify(_changed(path, Attr.TYPE, Attr.LINK), PackageIndex.load(root), root)
    assert (change.cause, change.package) == (Cause.PACKAGE_MODIFIED, "coreutils")


def test_paths_outside_the_root_are_left_alone(root: Path) -> None:
    change = Change(b"/somewhere/else/usr/bin/env", ChangeKind.REMOVED)
    assert classify(change, PackageIndex.load(root), root) is change


def test_explain_tries_generated_rules_only_for_unowned_unexplained_changes(root: Path) -> None:
    index = PackageIndex.load(root)
    cache = _put(root, "etc/ld.so.cache", b"cache")
    generated = explain(_changed(cache, Attr.HASH), index, root)
    assert (generated.cause, generated.note) == (
        Cause.GENERATED,
        "ldconfig's cache of shared library locations",
    )
    _put(root, f"{INFO}/libc-bin.list", b"/etc/ld.so.cache\n")
    owned = explain(_changed(cache, Attr.MODE), PackageIndex.load(root), root)
    assert (owned.cause, owned.package) == (Cause.UNEXPLAINED, "libc-bin")


def test_classify_hashes_only_the_changed_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[bytes] = []
    original = packages.file_digest

    def counting(entry: Entry, algorithm: str) -> bytes | None:
        read.append(entry.path)
        return original(entry, algorithm)

    monkeypatch.setattr(packages, "file_digest", counting)
    classify(_changed(root / "usr/bin/env", Attr.INODE), PackageIndex.load(root), root)
    assert read == [os.fsencode(root / "usr/bin/env")]


def test_link_target() -> None:
    assert link_target(b"/usr/bin/rnano", b"nano") == b"/usr/bin/nano"
    assert link_target(b"/usr/lib/x/libc.so", b"../../../lib/libc.so.6") == b"/lib/libc.so.6"
    assert link_target(b"/usr/bin/x", b"/etc/./alternatives//x") == b"/etc/alternatives/x"
    assert link_target(b"/a", b"../../etc/shadow") is None


def test_expected_equals_what_the_entry_says_after_replace(root: Path) -> None:
    entry = _entry(root / "usr/bin/env")
    assert packages.file_digest(entry, "md5") == hashlib.md5(b"env binary", usedforsecurity=False).digest()
    assert packages.file_digest(replace(entry, size=1), "md5") is None  # not the file the walk saw


def test_a_package_managers_log_that_shrank_is_not_explained(root: Path) -> None:
    index = PackageIndex.load(root)
    grown = classify(_changed(root / "var/lib/dpkg/status", Attr.HASH), index, root)
    (root / "var/log/apt").mkdir(parents=True, exist_ok=True)
    (root / "var/log/apt/history.log").write_bytes(b"")
    shrunk = classify(_changed(root / "var/log/apt/history.log", Attr.GROWING), index, root)
    assert grown.cause is Cause.PACKAGE and shrunk.cause is Cause.UNEXPLAINED
