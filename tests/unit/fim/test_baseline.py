"""The signed baseline: every field round-trips; any edit, cut, splice, other key or odd content is refused."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import zstandard

from rampart.errors import BaselineRefused, FimError
from rampart.fim import baseline as baseline_module
from rampart.fim.baseline import (
    MAGIC,
    SIGNED_CONTEXT,
    TRAILER_SIZE,
    Baseline,
    new_header,
    open_baseline,
    write_baseline,
)
from rampart.fim.entrycodec import encode_entry
from rampart.fim.model import Entry, HashName, Kind
from rampart.fim.order import path_key
from rampart.fim.signing import Signer, Verifier, generate_keypair, load_signer

HOST = "host-a"


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "keys" / "a.key", tmp_path / "keys" / "a.pub")
    return load_signer(tmp_path / "keys" / "a.key")


@pytest.fixture
def verifier(signer: Signer) -> Verifier:
    return signer.verifier()


@pytest.fixture
def other(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "keys" / "b.key", tmp_path / "keys" / "b.pub")
    return load_signer(tmp_path / "keys" / "b.key")


def sample_entries() -> list[Entry]:
    """Every field set somewhere, odd names included, in canonical order."""
    entries = [
        Entry(b"/etc", Kind.DIR, mode=0o40755, nlink=80, inode=2, dev=2049, mtime_ns=1, ctime_ns=2),
        Entry(b"/etc/caf\xe9", Kind.FILE, mode=0o100644, size=3, digest=b"\x01" * 32, uid=1000, gid=1000),
        Entry(b"/etc/link", Kind.LINK, mode=0o120777, link=b"../usr/\xff\xfe bin", size=12),
        Entry(b"/etc/new\nline", Kind.FILE, mode=0o104755, digest=b"\x00" * 32, mtime_ns=-5_000_000_123),
        Entry(
            b"/etc/passwd",
            Kind.FILE,
            mode=0o100644,
            uid=0,
            gid=0,
            size=2**40,
            mtime_ns=1_700_000_000_123_456_789,
            ctime_ns=1_700_000_001_987_654_321,
            inode=2**63 - 1,
            dev=2**32 + 7,
            nlink=1,
            digest=bytes(range(32)),
            xattrs=((b"security.selinux", b"\x02" * 32), (b"user.note", b"\x03" * 32)),
            acl="user::rw-,user:alice:r--,group::r--,mask::r--,other::r--",
            caps="cap_net_raw=ep",
            selinux="system_u:object_r:passwd_file_t:s0",
        ),
        Entry(b'/etc/q"uote\\', Kind.FILE, xattrs=((b"user.\x00bin\xff", b"\x04" * 32),)),
        Entry(b"/etc/unreadable", Kind.FILE, mode=0o100000, error="permission denied"),
        Entry(b"/etc/z", Kind.FIFO),
        Entry(b"/etc/z/c", Kind.CHAR),
        Entry(b"/etc/z/d", Kind.BLOCK),
        Entry(b"/etc/z/s", Kind.SOCKET, link=b""),
        Entry(b"/etc/\xe2\x82\xac", Kind.FILE, digest=b""),
    ]
    return sorted(entries, key=lambda e: path_key(e.path))


def header() -> dict[str, object]:
    return new_header("d" * 64, "version: 1\nrules: []\n", HashName.BLAKE3, host=HOST)


def write(path: Path, signer: Signer, entries: list[Entry] | None = None) -> Path:
    write_baseline(path, iter(sample_entries() if entries is None else entries), header(), signer)
    return path


def signed(body: bytes, signer: Signer) -> bytes:
    """`body` with a valid trailer by `signer`: lets tests build hostile content that passes the signature."""
    signature = signer.sign(SIGNED_CONTEXT + hashlib.sha256(body).digest())
    return body + f"SIG {signature.hex()} {signer.key_id}\n".encode()


def body_of(lines: list[bytes], signer: Signer, **changes: object) -> bytes:
    head = {**header(), "entries": len(lines), "key_id": signer.key_id, **changes}
    stream = zstandard.ZstdCompressor().compress(b"".join(line + b"\n" for line in lines))
    return MAGIC + orjson.dumps(head) + b"\n" + stream


def opened(path: Path, verifier: Verifier) -> Baseline:
    return open_baseline(path, verifier, host=HOST)


def test_every_field_round_trips(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    path = tmp_path / "b.rfim"
    assert write_baseline(path, iter(sample_entries()), header(), signer) == len(sample_entries())
    loaded = opened(path, verifier)
    assert list(loaded.entries()) == sample_entries()
    assert list(loaded.entries()) == sample_entries()  # as often as asked


def test_header_is_kept_and_completed(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    loaded = opened(write(tmp_path / "b.rfim", signer), verifier)
    assert loaded.header.host == HOST
    assert loaded.header.hash is HashName.BLAKE3
    assert loaded.header.entries == len(sample_entries())
    assert loaded.header.key_id == signer.key_id
    assert loaded.header.policy_text == "version: 1\nrules: []\n"
    assert loaded.header.tool.startswith("rampart ")
    assert loaded.header.created.endswith("Z")


def test_digest_names_the_signed_content(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    data = write(tmp_path / "b.rfim", signer).read_bytes()
    assert opened(tmp_path / "b.rfim", verifier).digest == hashlib.sha256(data[:-TRAILER_SIZE]).hexdigest()


def test_file_is_private_and_no_temp_file_is_left(tmp_path: Path, signer: Signer) -> None:
    path = write(tmp_path / "sub" / "b.rfim", signer)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["b.rfim"]


def test_empty_baseline_round_trips(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    loaded = opened(write(tmp_path / "b.rfim", signer, []), verifier)
    assert list(loaded.entries()) == []
    assert loaded.header.entries == 0


def test_large_baseline_is_verified_through_a_temporary_copy(
    tmp_path: Path, signer: Signer, verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline_module, "IN_MEMORY_LIMIT", 100)
    entries = [
        Entry(b"/d/%06d" % i, Kind.FILE, size=i, digest=hashlib.sha256(b"%d" % i).digest())
        for i in range(5000)
    ]
    loaded = opened(write(tmp_path / "b.rfim", signer, entries), verifier)
    assert list(loaded.entries()) == entries


def test_file_changed_after_verification_does_not_change_entries(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    path = write(tmp_path / "b.rfim", signer)
    loaded = opened(path, verifier)
    write(path, signer, sample_entries()[:2])
    assert list(loaded.entries()) == sample_entries()


def test_write_refuses_out_of_order_entries_and_keeps_the_old_baseline(
    tmp_path: Path, signer: Signer
) -> None:
    path = write(tmp_path / "b.rfim", signer)
    before = path.read_bytes()
    for bad in ([Entry(b"/b", Kind.FILE), Entry(b"/a", Kind.FILE)], [Entry(b"/a", Kind.FILE)] * 2):
        with pytest.raises(FimError, match="out of order"):
            write(path, signer, bad)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["b.rfim", "keys"]


def test_write_refuses_a_header_it_could_not_read_back(tmp_path: Path, signer: Signer) -> None:
    with pytest.raises(FimError, match="cannot write baseline"):
        write_baseline(tmp_path / "b.rfim", iter([]), {**header(), "hash": "md5"}, signer)
    assert not (tmp_path / "b.rfim").exists()


def test_slash_sorts_before_other_bytes() -> None:
    """The canonical order is component-wise: /a/b before /a-b although '-' < '/' bytewise."""
    entries = [Entry(b"/a", Kind.DIR), Entry(b"/a/b", Kind.FILE), Entry(b"/a-b", Kind.FILE)]
    assert sorted(entries, key=lambda e: path_key(e.path)) == entries


def test_slash_order_round_trips(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    entries = [Entry(b"/a", Kind.DIR), Entry(b"/a/b", Kind.FILE), Entry(b"/a-b", Kind.FILE)]
    assert list(opened(write(tmp_path / "b.rfim", signer, entries), verifier).entries()) == entries


# --- hostile files: refused by open_baseline, before any entry can be read -------------------------------


def refused(path: Path, verifier: Verifier, match: str = "REFUSED") -> str:
    with pytest.raises(BaselineRefused, match=match) as caught:
        opened(path, verifier)
    message = caught.value.message
    assert "\n" not in message
    return message


def test_every_single_byte_flip_is_refused(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    good = write(tmp_path / "b.rfim", signer).read_bytes()
    bad = tmp_path / "bad.rfim"
    for offset in range(len(good)):
        for flip in (0x01, 0x80):
            bad.write_bytes(good[:offset] + bytes([good[offset] ^ flip]) + good[offset + 1 :])
            with pytest.raises(BaselineRefused):
                opened(bad, verifier)


def test_every_truncation_is_refused(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    good = write(tmp_path / "b.rfim", signer).read_bytes()
    bad = tmp_path / "bad.rfim"
    for length in range(len(good)):
        bad.write_bytes(good[:length])
        with pytest.raises(BaselineRefused):
            opened(bad, verifier)


def test_signature_mismatch_message_is_loud(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    good = write(tmp_path / "b.rfim", signer).read_bytes()
    middle = len(good) // 2
    (tmp_path / "bad").write_bytes(good[:middle] + bytes([good[middle] ^ 4]) + good[middle + 1 :])
    message = refused(tmp_path / "bad", verifier, "signature does not match")
    assert "do not trust this host's files" in message


@pytest.mark.parametrize(
    ("mangle", "match"),
    [
        (lambda data: data[:-TRAILER_SIZE], "signature line"),
        (lambda data: data + b"extra", "signature line"),
        (lambda data: data + data[-TRAILER_SIZE:], "signature"),
        (lambda data: data[:-TRAILER_SIZE] + data[-TRAILER_SIZE:].upper(), "signature line"),
        (lambda data: data.replace(b"\n", b"\r\n"), "REFUSED"),
    ],
    ids=["trailer-removed", "appended", "trailer-doubled", "trailer-uppercase", "crlf"],
)
def test_trailer_damage_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier, mangle: Callable[[bytes], bytes], match: str
) -> None:
    (tmp_path / "bad").write_bytes(mangle(write(tmp_path / "b.rfim", signer).read_bytes()))
    refused(tmp_path / "bad", verifier, match)


def test_baseline_signed_by_another_key_is_refused(tmp_path: Path, other: Signer, verifier: Verifier) -> None:
    path = write(tmp_path / "b.rfim", other)
    message = refused(path, verifier, "signed by key")
    assert other.key_id in message and verifier.key_id in message


def test_another_keys_baseline_with_our_key_id_written_in_is_refused(
    tmp_path: Path, signer: Signer, other: Signer, verifier: Verifier
) -> None:
    data = write(tmp_path / "b.rfim", other).read_bytes()
    forged = data.replace(other.key_id.encode(), signer.key_id.encode())
    (tmp_path / "bad").write_bytes(forged)
    refused(tmp_path / "bad", verifier, "signature does not match")


def test_header_spliced_from_another_baseline_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    first = write(tmp_path / "a.rfim", signer).read_bytes()
    second = write(tmp_path / "b.rfim", signer, sample_entries()[:3]).read_bytes()
    head_end = first.index(b"\n", len(MAGIC)) + 1
    second_head_end = second.index(b"\n", len(MAGIC)) + 1
    (tmp_path / "bad").write_bytes(second[:second_head_end] + first[head_end:])
    refused(tmp_path / "bad", verifier, "signature does not match")
    (tmp_path / "bad").write_bytes(first[:-TRAILER_SIZE] + second[-TRAILER_SIZE:])
    refused(tmp_path / "bad", verifier, "signature does not match")


def test_header_naming_another_key_is_refused_even_when_signed(
    tmp_path: Path, signer: Signer, other: Signer, verifier: Verifier
) -> None:
    body = body_of([encode_entry(e) for e in sample_entries()], signer, key_id=other.key_id)
    (tmp_path / "bad").write_bytes(signed(body, signer))
    refused(tmp_path / "bad", verifier, "header names another key")


def test_baseline_from_another_host_is_refused_unless_asked(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    path = write(tmp_path / "b.rfim", signer)
    with pytest.raises(BaselineRefused, match="made on host 'host-a'"):
        open_baseline(path, verifier, host="host-b")
    assert open_baseline(path, verifier, host="host-b", any_host=True).header.host == HOST


def test_default_host_is_this_machine(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    path = tmp_path / "b.rfim"
    write_baseline(path, iter([]), new_header("d" * 64, "", HashName.SHA256), signer)
    assert open_baseline(path, verifier).header.hash is HashName.SHA256


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not a rampart fim baseline"),
        (b"RAMPART-FIM 1\n", "too short"),
        (b"RAMPART-FIM 2\n" + b"x" * 400, "format version '2'"),
        (b"RAMPART-FIM \xff\n" + b"x" * 400, "format version"),
        (b"rampart-fim 1\n" + b"x" * 400, "wrong magic"),
        (b"\x28\xb5\x2f\xfd" + os.urandom(2000), "wrong magic"),
        (b"RAMPART-FIM 1\n" + os.urandom(4000), "signature line"),
        (b"RAMPART-FIM 1\n" + b"{}\n" + b"SIG " + b"0" * 128 + b" " + b"0" * 16 + b"\n", "signed by key"),
    ],
    ids=["empty", "magic-only", "version-2", "version-garbage", "lowercase", "zstd", "random", "zero-sig"],
)
def test_garbage_is_refused(tmp_path: Path, verifier: Verifier, content: bytes, match: str) -> None:
    (tmp_path / "bad").write_bytes(content)
    refused(tmp_path / "bad", verifier, match)


def test_our_key_id_with_a_zero_signature_is_refused(tmp_path: Path, verifier: Verifier) -> None:
    body = b"RAMPART-FIM 1\n{}\n"
    (tmp_path / "bad").write_bytes(body + f"SIG {'0' * 128} {verifier.key_id}\n".encode())
    refused(tmp_path / "bad", verifier, "signature does not match")


def test_missing_directory_and_fifo_are_refused(tmp_path: Path, verifier: Verifier) -> None:
    refused(tmp_path / "missing", verifier, "cannot read")
    (tmp_path / "dir").mkdir()
    refused(tmp_path / "dir", verifier, "REFUSED")
    os.mkfifo(tmp_path / "fifo")
    refused(tmp_path / "fifo", verifier, "not a regular file")


# --- validly signed but malformed content: refused before use or while streaming --------------------------


def test_huge_header_line_is_refused_even_when_signed(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    body = body_of([], signer, policy_text="#" * (5 * 1024 * 1024))
    (tmp_path / "bad").write_bytes(signed(body, signer))
    refused(tmp_path / "bad", verifier, "header line is missing or longer than 4 MiB")


def test_write_refuses_a_huge_header(tmp_path: Path, signer: Signer) -> None:
    with pytest.raises(FimError, match="larger than 4 MiB"):
        write_baseline(tmp_path / "b", iter([]), {**header(), "policy_text": "#" * (5 << 20)}, signer)


@pytest.mark.parametrize(
    "changes",
    [
        {"entries": -1},
        {"entries": "3"},
        {"entries": True},
        {"hash": "md5"},
        {"host": None},
        {"created": 5},
    ],
    ids=["negative-count", "text-count", "bool-count", "bad-hash", "null-host", "number-created"],
)
def test_malformed_header_is_refused_even_when_signed(
    tmp_path: Path, signer: Signer, verifier: Verifier, changes: dict[str, object]
) -> None:
    (tmp_path / "bad").write_bytes(signed(body_of([], signer, **changes), signer))
    refused(tmp_path / "bad", verifier, "header is malformed")


@pytest.mark.parametrize("head", [b"[]", b"not json", b'{"a": 1}', b'"text"'])
def test_non_object_header_is_refused_even_when_signed(
    tmp_path: Path, signer: Signer, verifier: Verifier, head: bytes
) -> None:
    (tmp_path / "bad").write_bytes(signed(MAGIC + head + b"\n", signer))
    refused(tmp_path / "bad", verifier, "header is malformed")


def stream_refused(path: Path, verifier: Verifier, match: str) -> list[Entry]:
    """Open succeeds (the file is validly signed); streaming the entries refuses; what came before."""
    seen: list[Entry] = []
    with pytest.raises(BaselineRefused, match=match):
        for entry in opened(path, verifier).entries():
            seen.append(entry)
    return seen


def test_entries_out_of_order_in_a_signed_file_are_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    entries = sample_entries()
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    (tmp_path / "bad").write_bytes(signed(body_of([encode_entry(e) for e in swapped], signer), signer))
    seen = stream_refused(tmp_path / "bad", verifier, "entry 3 is out of order")
    assert seen == swapped[:2]


def test_duplicate_entries_in_a_signed_file_are_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    line = encode_entry(Entry(b"/a", Kind.FILE))
    (tmp_path / "bad").write_bytes(signed(body_of([line, line], signer), signer))
    stream_refused(tmp_path / "bad", verifier, "entry 2 is out of order")


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"p": "/a"}',
        b'{"p": "/a", "k": "x"}',
        b'{"p": "/a", "k": ["f"]}',
        b'{"p": "a", "k": "f"}',
        b'{"p": "", "k": "f"}',
        b'{"p": 5, "k": "f"}',
        b'{"p": ["/"], "k": "f"}',
        b'{"p": "/a\\u0000b", "k": "f"}',
        b'{"p": "/caf\\u00e9", "k": "f"}',
        b'{"p64": "////", "k": "f"}',
        b'{"p64": "not base64!", "k": "f"}',
        b'{"p": "/a", "p64": "L2E=", "k": "f"}',
        b'{"k": "f"}',
        b'{"p": "/a", "k": "f", "m": "755"}',
        b'{"p": "/a", "k": "f", "s": 1.5}',
        b'{"p": "/a", "k": "f", "s": null}',
        b'{"p": "/a", "k": "f", "i": [1]}',
        b'{"p": "/a", "k": "f", "h": "xyz"}',
        b'{"p": "/a", "k": "f", "h": " ab"}',
        b'{"p": "/a", "k": "f", "h": 12}',
        b'{"p": "/a", "k": "f", "zz": 1}',
        b'{"p": "/a", "k": "f", "a": 1}',
        b'{"p": "/a", "k": "f", "l": 1}',
        b'{"p": "/a", "k": "f", "x": []}',
        b'{"p": "/a", "k": "f", "x": [["n"]]}',
        b'{"p": "/a", "k": "f", "x": [[1, "00"]]}',
        b'{"p": "/a", "k": "f", "x": [["n", "0"]]}',
        b'{"p": "/a", "k": "f", "x": "n"}',
        b'{"p": "/a", "k": "f", "x": [["n", "00"]], "x64": [["bg==", "00"]]}',
        b'{"p": "/a", "k": "f", "x64": [["!!", "00"]]}',
        b'{"p": "/a", "k": "f", "e": ["x"]}',
    ],
)
def test_malformed_entry_in_a_signed_file_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier, line: bytes
) -> None:
    lines = [encode_entry(Entry(b"/", Kind.DIR)), line]
    (tmp_path / "bad").write_bytes(signed(body_of(lines, signer), signer))
    seen = stream_refused(tmp_path / "bad", verifier, "entry 2 is malformed")
    assert seen == [Entry(b"/", Kind.DIR)]


def test_count_differing_from_the_header_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    lines = [encode_entry(e) for e in sample_entries()]
    (tmp_path / "bad").write_bytes(signed(body_of(lines, signer, entries=len(lines) + 1), signer))
    stream_refused(tmp_path / "bad", verifier, "header says")


def test_unterminated_last_line_is_refused(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    head = {**header(), "entries": 1, "key_id": signer.key_id}
    stream = zstandard.ZstdCompressor().compress(encode_entry(Entry(b"/a", Kind.FILE)))
    (tmp_path / "bad").write_bytes(signed(MAGIC + orjson.dumps(head) + b"\n" + stream, signer))
    stream_refused(tmp_path / "bad", verifier, "cut short")


@pytest.mark.parametrize("cut", [1, 5, 12])
def test_truncated_zstd_stream_in_a_signed_file_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier, cut: int
) -> None:
    body = body_of([encode_entry(e) for e in sample_entries()], signer)
    (tmp_path / "bad").write_bytes(signed(body[:-cut], signer))
    stream_refused(tmp_path / "bad", verifier, "REFUSED")


def test_non_zstd_stream_in_a_signed_file_is_refused(
    tmp_path: Path, signer: Signer, verifier: Verifier
) -> None:
    head = {**header(), "entries": 0, "key_id": signer.key_id}
    (tmp_path / "bad").write_bytes(signed(MAGIC + orjson.dumps(head) + b"\n" + b"garbage" * 50, signer))
    stream_refused(tmp_path / "bad", verifier, "not valid zstd")


def test_overlong_entry_line_is_refused(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    (tmp_path / "bad").write_bytes(signed(body_of([b"{" * (3 << 20)], signer), signer))
    stream_refused(tmp_path / "bad", verifier, "longer than 1 MiB")


def test_entry_stream_is_lazy(tmp_path: Path, signer: Signer, verifier: Verifier) -> None:
    """entries() is a generator: a caller that stops early never decodes the rest (bounded work and memory)."""
    entries: Iterator[Entry] = opened(write(tmp_path / "b.rfim", signer), verifier).entries()
    assert next(entries) == sample_entries()[0]


def test_default_baseline_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert baseline_module.default_baseline_path() == Path("/var/lib/rampart/fim/baseline.rfim")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert baseline_module.default_baseline_path() == tmp_path / ".local/share/rampart/fim/baseline.rfim"
