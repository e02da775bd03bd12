"""Reading one path's facts and digest: every kind, xattrs/ACL/capabilities/SELinux, and files that move."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import stat
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import blake3
import pytest

from rampart.fim import collect
from rampart.fim.collect import acl_text, caps_text, hash_file, read_entry
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.policy import BUILTIN_GROUPS

FULL = BUILTIN_GROUPS["full"]
NO_XATTRS = frozenset({Attr.TYPE, Attr.MODE, Attr.LINK})


def entry_of(path: Path, attrs: frozenset[Attr] = FULL) -> Entry:
    return read_entry(bytes(path), os.lstat(path), attrs)


def test_a_regular_file_keeps_every_stat_fact(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    path.chmod(0o4751)
    st = os.lstat(path)
    entry = entry_of(path)
    assert entry.kind is Kind.FILE
    assert entry.mode == 0o4751  # permission bits with setuid
    assert (entry.uid, entry.gid, entry.size) == (st.st_uid, st.st_gid, 5)
    assert (entry.mtime_ns, entry.ctime_ns, entry.inode, entry.dev, entry.nlink) == (
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        st.st_dev,
        1,
    )
    assert entry.digest is None and entry.link is None and entry.error is None


def test_every_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d").chmod(0o1777)
    os.symlink("d/../nowhere", tmp_path / "l")
    os.mkfifo(tmp_path / "p")
    monkeypatch.chdir(tmp_path)  # AF_UNIX paths are short
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("s")
        assert entry_of(tmp_path / "s").kind is Kind.SOCKET
    directory = entry_of(tmp_path / "d")
    assert (directory.kind, directory.mode) == (Kind.DIR, 0o1777)
    link = entry_of(tmp_path / "l")
    assert (link.kind, link.link) == (Kind.LINK, b"d/../nowhere")  # never followed
    assert entry_of(tmp_path / "l", frozenset({Attr.TYPE})).link is None  # not watched, not read
    assert entry_of(tmp_path / "p").kind is Kind.FIFO
    assert read_entry(b"/dev/null", os.lstat("/dev/null"), FULL).kind is Kind.CHAR
    block = os.stat_result((stat.S_IFBLK | 0o660, 1, 2, 1, 0, 6, 0, 0, 0, 0))
    assert read_entry(b"/nonexistent/sda", block, NO_XATTRS).kind is Kind.BLOCK


def test_user_xattrs_are_listed_by_name_with_the_sha256_of_their_value(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"")
    os.setxattr(path, "user.zeta", b"last")
    os.setxattr(path, "user.alpha", b"first")
    entry = entry_of(path)
    assert entry.xattrs == (
        (b"user.alpha", hashlib.sha256(b"first").digest()),
        (b"user.zeta", hashlib.sha256(b"last").digest()),
    )
    assert entry_of(path, NO_XATTRS).xattrs == ()  # not watched: not read
    assert entry.acl is None and entry.caps is None and entry.selinux is None


def acl(*entries: tuple[int, int, int]) -> bytes:
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


ACCESS = acl(
    (0x01, 7, 0xFFFFFFFF),
    (0x02, 5, 1000),
    (0x04, 5, 0xFFFFFFFF),
    (0x10, 5, 0xFFFFFFFF),
    (0x20, 4, 0xFFFFFFFF),
)
DEFAULT = acl((0x01, 7, 0xFFFFFFFF), (0x04, 0, 0xFFFFFFFF), (0x20, 0, 0xFFFFFFFF))


def test_posix_acls_are_read_as_text(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir()
    os.setxattr(directory, "system.posix_acl_access", ACCESS)
    os.setxattr(directory, "system.posix_acl_default", DEFAULT)
    entry = entry_of(directory, frozenset({Attr.ACL}))
    assert entry.acl == (
        "user::rwx,user:1000:r-x,group::r-x,mask::r-x,other::r--,"
        "default:user::rwx,default:group::---,default:other::---"
    )
    assert entry.xattrs == ()  # only the ACL was asked for
    assert entry_of(directory, frozenset({Attr.MODE})).acl is None


def test_acl_text_of_malformed_values_is_marked_not_raised() -> None:
    assert acl_text(b"").startswith("malformed:")
    assert acl_text(ACCESS[:-1]).startswith("malformed:")
    assert acl_text(struct.pack("<I", 1) + ACCESS[4:]).startswith("malformed:")
    assert acl_text(acl((0x40, 1, 0))) == "tag0x40::--x"


def caps(
    revision: int, permitted: int, inheritable: int = 0, effective: bool = True, rootid: int = 0
) -> bytes:
    magic = revision << 24 | effective
    words = [permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF, permitted >> 32, inheritable >> 32]
    if revision == 1:
        return struct.pack("<3I", magic, *words[:2])
    value = struct.pack("<5I", magic, *words)
    return value + struct.pack("<I", rootid) if revision == 3 else value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (caps(2, 1 << 13), "cap_net_raw=ep"),
        (caps(2, 1 << 10 | 1 << 13), "cap_net_bind_service,cap_net_raw=ep"),
        (caps(2, 1 << 13, 1 << 21, effective=False), "cap_net_raw=p cap_sys_admin=i"),
        (caps(2, 1 << 38 | 1 << 40), "cap_perfmon,cap_checkpoint_restore=ep"),
        (caps(2, 1 << 63), "cap_63=ep"),
        (caps(2, 0), "="),
        (caps(1, 1 << 7), "cap_setuid=ep"),
        (caps(3, 1 << 13, rootid=100000), "cap_net_raw=ep [rootid=100000]"),
    ],
)
def test_capabilities_are_read_as_text(value: bytes, text: str) -> None:
    assert caps_text(value) == text


@pytest.mark.parametrize(
    "value", [b"", b"\x00", caps(2, 1)[:-1], caps(2, 1) + b"\0", caps(3, 1)[:20], b"\xff" * 20]
)
def test_malformed_capabilities_are_marked_not_raised(value: bytes) -> None:
    assert caps_text(value).startswith("malformed:")


def fake_xattrs(monkeypatch: pytest.MonkeyPatch, values: dict[str, bytes]) -> None:
    monkeypatch.setattr(os, "listxattr", lambda path, follow_symlinks=True: list(values))
    monkeypatch.setattr(os, "getxattr", lambda path, name, follow_symlinks=True: values[name])


def test_capabilities_and_selinux_labels_are_read_from_their_xattrs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ping"
    path.write_bytes(b"")
    label = b"system_u:object_r:ping_exec_t:s0\0"
    fake_xattrs(monkeypatch, {"security.capability": caps(2, 1 << 13), "security.selinux": label})
    entry = entry_of(path)
    assert entry.caps == "cap_net_raw=ep"
    assert entry.selinux == "system_u:object_r:ping_exec_t:s0"
    assert [name for name, _ in entry.xattrs] == [b"security.capability", b"security.selinux"]
    only_caps = entry_of(path, frozenset({Attr.CAPS}))
    assert (only_caps.caps, only_caps.selinux, only_caps.xattrs) == ("cap_net_raw=ep", None, ())


def test_xattr_values_are_capped_at_64_kib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"")
    fake_xattrs(monkeypatch, {"user.big": b"a" * 100_000})
    assert entry_of(path).xattrs == ((b"user.big", hashlib.sha256(b"a" * 65536).digest()),)


def raising(err: int) -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise OSError(err, os.strerror(err))

    return fail


def test_unreadable_xattrs_become_the_entry_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    monkeypatch.setattr(os, "listxattr", raising(errno.EACCES))
    entry = entry_of(path)
    assert entry.error == "xattrs: Permission denied"
    assert entry.size == 0 and entry.kind is Kind.FILE  # the facts read so far are kept


def test_no_xattr_support_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    monkeypatch.setattr(os, "listxattr", raising(errno.ENOTSUP))
    assert entry_of(path).error is None


def test_an_xattr_removed_after_listing_is_simply_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    monkeypatch.setattr(os, "listxattr", lambda path, follow_symlinks=True: ["user.gone", "user.locked"])
    values = {"user.gone": errno.ENODATA, "user.locked": errno.EACCES}
    monkeypatch.setattr(os, "getxattr", lambda p, name, follow_symlinks=True: raising(values[name])())
    entry = entry_of(path)
    assert entry.xattrs == ()
    assert entry.error == "xattr 'user.locked': Permission denied"


def test_an_unreadable_link_target_becomes_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    os.symlink("target", tmp_path / "l")
    monkeypatch.setattr(os, "readlink", raising(errno.EACCES))
    monkeypatch.setattr(os, "listxattr", raising(errno.EIO))
    entry = entry_of(tmp_path / "l")
    assert entry.link is None
    assert entry.error == "link target: Permission denied; xattrs: Input/output error"


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 7])
def test_digests_match_the_content(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    st = os.lstat(path)
    assert hash_file(bytes(path), st, HashName.SHA256) == (hashlib.sha256(data).digest(), None)
    assert hash_file(bytes(path), st, HashName.BLAKE3) == (blake3.blake3(data).digest(), None)


def test_a_sparse_file_hashes_as_its_zeros(tmp_path: Path) -> None:
    path = tmp_path / "sparse"
    with path.open("wb") as f:
        f.seek(5 << 20)
        f.write(b"end")
    data = b"\0" * (5 << 20) + b"end"
    assert hash_file(bytes(path), os.lstat(path), HashName.SHA256) == (hashlib.sha256(data).digest(), None)


def test_a_file_swapped_for_a_symlink_is_never_followed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_bytes(b"do not read")
    path = tmp_path / "f"
    path.write_bytes(b"original")
    st = os.lstat(path)
    path.unlink()
    os.symlink(tmp_path / "secret", path)
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "replaced while read")


def test_a_file_swapped_for_another_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"original")
    st = os.lstat(path)
    (tmp_path / "other").write_bytes(b"original")
    os.replace(tmp_path / "other", path)
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "replaced while read")


def test_a_file_swapped_for_a_fifo_is_never_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"original")
    st = os.lstat(path)
    path.unlink()
    os.mkfifo(path)  # opening it must not block: O_NONBLOCK, and it is not the inode the walk saw
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "replaced while read")


def test_a_vanished_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    st = os.lstat(path)
    path.unlink()
    assert hash_file(bytes(path), st, HashName.BLAKE3) == (None, "vanished while read")


def test_a_file_changed_between_lstat_and_open(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    st = os.lstat(path)
    with path.open("ab") as f:
        f.write(b"more")
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "changed while read")


def test_a_file_changed_while_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * (3 << 20))
    st = os.lstat(path)
    read_into = collect.read_into

    def read_then_write(fd: int, hasher: collect.Hasher) -> int:
        total = read_into(fd, hasher)
        with path.open("r+b") as f:  # same size, new content and mtime
            f.write(b"b")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        return total

    monkeypatch.setattr(collect, "read_into", read_then_write)
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "changed while read")


def test_a_file_shrunk_while_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * 100)
    st = os.lstat(path)
    monkeypatch.setattr(collect, "read_into", lambda fd, hasher: 50)  # fewer bytes than lstat said
    assert hash_file(bytes(path), st, HashName.SHA256) == (None, "changed while read")


def opens(monkeypatch: pytest.MonkeyPatch, fail: Callable[[int], int | None]) -> list[int]:
    calls: list[int] = []
    real = os.open

    def fake(path: bytes, flags: int, *args: int) -> int:
        calls.append(flags)
        err = fail(flags)
        if err is not None:
            raise PermissionError(err, os.strerror(err))
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", fake)
    return calls


def test_permission_denied_is_an_error_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    opens(monkeypatch, lambda flags: errno.EACCES)
    assert hash_file(bytes(path), os.lstat(path), HashName.SHA256) == (None, "open: Permission denied")


def test_noatime_refused_is_retried_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    calls = opens(monkeypatch, lambda flags: errno.EPERM if flags & os.O_NOATIME else None)
    assert hash_file(bytes(path), os.lstat(path), HashName.SHA256) == (hashlib.sha256(b"x").digest(), None)
    assert len(calls) == 2 and calls[0] & os.O_NOATIME and not calls[1] & os.O_NOATIME
    assert all(flags & os.O_NOFOLLOW and flags & os.O_NONBLOCK for flags in calls)


def test_a_read_error_is_an_error_not_an_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    monkeypatch.setattr(os, "readv", raising(errno.EIO))
    assert hash_file(bytes(path), os.lstat(path), HashName.SHA256) == (None, "read: Input/output error")


def test_hash_batch_keeps_order_and_reports_per_file(tmp_path: Path) -> None:
    items = []
    for i in range(5):
        path = tmp_path / f"f{i}"
        path.write_bytes(str(i).encode())
        st = os.lstat(path)
        items.append((bytes(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
    (tmp_path / "f2").unlink()
    results = collect.hash_batch(items, "sha256")
    assert results[2] == (None, "vanished while read")
    assert [r for i, r in enumerate(results) if i != 2] == [
        (hashlib.sha256(str(i).encode()).digest(), None) for i in (0, 1, 3, 4)
    ]


@pytest.fixture(autouse=True)
def _no_leaked_fds() -> Iterator[None]:
    before = set(os.listdir("/proc/self/fd"))
    yield
    assert set(os.listdir("/proc/self/fd")) <= before
