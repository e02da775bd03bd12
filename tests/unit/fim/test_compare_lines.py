"""Raw baseline lines against now: the same answers as decoded entries, decoding only the lines that differ;
a quick check settling unchanged paths from their lstat alone."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import orjson
import pytest
import zstandard

from rampart.errors import BaselineRefused
from rampart.fim import quick as quick_module
from rampart.fim.baseline import MAGIC, SIGNED_CONTEXT, Baseline, open_baseline, write_baseline
from rampart.fim.collect import KINDS
from rampart.fim.compare import QuickReuse, compare, compare_lines
from rampart.fim.entrycodec import decode_entry, encode_entry
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import Policy, Rule
from rampart.fim.quick import QuickLines
from rampart.fim.signing import Signer, Verifier, generate_keypair, load_signer

from .test_baseline import header

HOST = "host-a"
FULL = frozenset(Attr) - {Attr.GROWING}
POLICY = Policy(rules=(Rule(b"/", FULL, "full"),), exclude_globs=(), exclude_regexes=())
STAT = {"size": 7, "mtime_ns": 11, "ctime_ns": 12, "inode": 13, "dev": 14, "nlink": 1, "mode": 0o644}


def varied() -> list[Entry]:
    """Entries of every shape the codec writes: plain, escaped and non-UTF-8 names, links, xattrs, errors."""
    entries = [
        Entry(b"/", Kind.DIR, mode=0o755, nlink=20, inode=2, dev=14),
        Entry(b"/a", Kind.FILE, digest=b"\x01" * 32, **STAT),
        Entry(b'/a"quote', Kind.FILE, digest=b"\x02" * 32, **STAT),
        Entry(b"/a\\back", Kind.FILE, digest=b"\x03" * 32, **STAT),
        Entry(b"/caf\xe9", Kind.FILE, digest=b"\x04" * 32, **STAT),
        Entry(b"/err", Kind.FILE, error="xattrs: permission denied", **STAT),
        Entry(b"/errhash", Kind.FILE, digest=b"\x05" * 32, error="xattrs: permission denied", **STAT),
        Entry(b"/link", Kind.LINK, link=b"../t\xff", **STAT),
        Entry(b"/new\nline", Kind.FILE, digest=b"\x06" * 32, **STAT),
        Entry(b"/nodigest", Kind.FILE, **STAT),
        Entry(b"/x", Kind.FILE, digest=b"\x07" * 32, xattrs=((b"user.\xff", b"\x08" * 32),), **STAT),
        Entry(
            b"/y",
            Kind.FILE,
            digest=b"\x09" * 32,
            acl="user::rw-",
            caps="cap_net_raw=ep",
            selinux="a_t",
            **STAT,
        ),
        Entry(b"/z", Kind.FILE, digest=b"\x0a" * 32, xattrs=((b"user.a", b"\x0b" * 32),), **STAT),
    ]
    assert [path_key(e.path) for e in entries] == sorted(path_key(e.path) for e in entries)
    return entries


def variants(entry: Entry) -> list[Entry]:
    """The entry itself and one change of each field (the digest and rare fields too)."""
    out = [entry]
    for name, value in (
        ("mode", 0o600), ("uid", 5), ("gid", 6), ("size", 8), ("mtime_ns", 99), ("ctime_ns", 98),
        ("inode", 97), ("dev", 96), ("nlink", 3), ("digest", b"\xee" * 32), ("digest", None),
        ("link", b"/other"), ("xattrs", ((b"user.b", b"\x0c" * 32),)), ("acl", "user::r--"),
        ("caps", "cap_chown=ep"), ("selinux", "b_t"), ("error", "changed while read"), ("kind", Kind.DIR),
    ):  # fmt: skip
        out.append(dataclasses.replace(entry, **{name: value}))
    return out


def lines_of(entries: list[Entry]) -> list[tuple[bytes, bytes]]:
    return [(path_key(e.path), encode_entry(e)) for e in entries]


def raw_lines(entries: list[Entry]) -> list[bytes]:
    return [encode_entry(e) for e in entries]


@pytest.mark.parametrize("index", range(len(varied())))
def test_raw_line_equality_is_decoded_equality(index: int) -> None:
    base = varied()[index]
    line = encode_entry(base)
    for now in variants(base):
        assert (encode_entry(now) == line) == (decode_entry(encode_entry(now)) == decode_entry(line) == base)
        assert decode_entry(encode_entry(now)) == now


@pytest.mark.parametrize("index", range(len(varied())))
def test_compare_lines_says_what_compare_says(index: int) -> None:
    base = varied()
    for now in variants(base[index]):
        tree = [*base[:index], now, *base[index + 1 :]]
        assert list(compare_lines(lines_of(base), tree, POLICY)) == list(compare(base, tree, POLICY))
    fewer = base[:index] + base[index + 1 :]
    assert list(compare_lines(lines_of(base), fewer, POLICY)) == list(compare(base, fewer, POLICY))
    assert list(compare_lines(lines_of(fewer), base, POLICY)) == list(compare(fewer, base, POLICY))


def stat_of(entry: Entry) -> os.stat_result:
    """An lstat result saying what ``entry`` says."""
    mode = {v: k for k, v in KINDS.items()}[entry.kind] | entry.mode
    numbers = (mode, entry.inode, entry.dev, entry.nlink, entry.uid, entry.gid, entry.size, 0, 0, 0)
    return os.stat_result(numbers, {"st_mtime_ns": entry.mtime_ns, "st_ctime_ns": entry.ctime_ns})


def quick_walk(quick: QuickLines, tree: list[Entry]) -> list[Entry]:
    """What a walk over ``tree`` hands on: the entries `QuickLines.same` does not settle, digests reused."""
    out = []
    for entry in tree:
        if quick.same(entry.path, stat_of(entry), FULL):
            continue
        walked = dataclasses.replace(entry, digest=None)
        digest = quick(walked) if walked.kind is Kind.FILE else None
        out.append(dataclasses.replace(walked, digest=digest) if digest is not None else entry)
    return out


@pytest.mark.parametrize("index", range(len(varied())))
def test_quick_lines_reuse_answers_what_quick_reuse_answers(index: int) -> None:
    base = varied()
    for now in variants(base[index]):
        if now.kind is not Kind.FILE:
            continue
        walked = dataclasses.replace(now, digest=None)
        quick, raw = QuickReuse(iter(base)), QuickLines(raw_lines(base))
        assert raw(dataclasses.replace(walked)) == quick(walked)
        assert raw.reused == quick.hits


def lstat_says(entry: Entry) -> tuple[object, ...]:
    return (entry.kind, entry.mode, entry.uid, entry.gid, entry.size, entry.mtime_ns, entry.ctime_ns,
            entry.inode, entry.dev, entry.nlink)  # fmt: skip


@pytest.mark.parametrize("index", range(len(varied())))
def test_quick_lines_say_what_compare_says_of_whatever_lstat_shows(index: int) -> None:
    base = varied()
    for now in variants(base[index]):
        tree = [*base[:index], now, *base[index + 1 :]]
        quick = QuickLines(raw_lines(base))
        found = list(quick.changes(quick_walk(quick, tree), POLICY))
        if lstat_says(now) != lstat_says(base[index]):
            assert found == list(compare(base, tree, POLICY))
        else:  # content, xattrs and the like behind an unchanged lstat (ctime too): trusted, as documented
            assert all(change in list(compare(base, tree, POLICY)) for change in found)
    fewer = base[:index] + base[index + 1 :]
    for old, new in ((base, fewer), (fewer, base)):
        quick = QuickLines(raw_lines(old))
        assert list(quick.changes(quick_walk(quick, new), POLICY)) == list(compare(old, new, POLICY))


def test_quick_lines_settle_plain_unchanged_paths_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    base = [e for e in varied() if e.kind is not Kind.LINK]
    monkeypatch.setattr(quick_module, "decode_line", None)  # a decode would fail
    quick = QuickLines(raw_lines(base))
    settled = [e.path for e in base if quick.same(e.path, stat_of(e), FULL)]
    assert settled == [b"/", b"/a"]  # not: odd names, errors, xattrs, ACL..., a watched file without digest


def test_quick_lines_want_the_exact_digest_form() -> None:
    entry = Entry(b"/a", Kind.FILE, digest=b"\xab" * 32, **STAT)
    upper = encode_entry(entry).replace(b"ab" * 32, b"AB" * 32)
    quick = QuickLines([upper])
    assert not quick.same(b"/a", stat_of(entry), FULL)  # not taken for the same bytes
    assert quick(dataclasses.replace(entry, digest=None)) == b"\xab" * 32  # but decoded and judged


def test_quick_lines_never_take_a_path_that_needs_escaping_for_a_plain_one() -> None:
    tricky = Entry(b"/a\\b", Kind.FILE, digest=b"\x01" * 32, **STAT)  # its line says /a\\\\b
    line = encode_entry(tricky)
    assert b'"/a\\\\b"' in line
    impostor = dataclasses.replace(tricky, path=b"/a\\\\b")  # the line's text, read as a path
    assert not QuickLines([line]).same(impostor.path, stat_of(impostor), FULL)


def test_quick_lines_refuse_lines_out_of_order() -> None:
    lines = raw_lines(varied())
    quick = QuickLines([lines[0], lines[2], lines[1]])
    assert quick.same(b"/", stat_of(varied()[0]), FULL)
    with pytest.raises(BaselineRefused, match="entry 3 is out of order"):
        list(quick.changes([], POLICY))


# --- Baseline.lines: keys read off the lines, order and count checked, odd lines decoded -------------------


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    generate_keypair(tmp_path / "keys" / "a.key", tmp_path / "keys" / "a.pub")
    return load_signer(tmp_path / "keys" / "a.key")


def opened(path: Path, verifier: Verifier) -> Baseline:
    return open_baseline(path, verifier, host=HOST)


def signed_file(path: Path, lines: list[bytes], signer: Signer) -> Path:
    head = {**header(), "host": HOST, "entries": len(lines), "key_id": signer.key_id}
    stream = zstandard.ZstdCompressor().compress(b"".join(line + b"\n" for line in lines))
    body = MAGIC + orjson.dumps(head) + b"\n" + stream
    signature = signer.sign(SIGNED_CONTEXT + hashlib.sha256(body).digest())
    path.write_bytes(body + f"SIG {signature.hex()} {signer.key_id}\n".encode())
    return path


def test_lines_are_the_encoded_entries_with_their_keys(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "b.rfim"
    head = {**header(), "host": HOST, "hash": str(HashName.SHA256)}
    write_baseline(path, iter(varied()), head, signer)
    assert list(opened(path, signer.verifier()).lines()) == lines_of(varied())


def test_lines_refuse_out_of_order_and_short_count(tmp_path: Path, signer: Signer) -> None:
    lines = [encode_entry(e) for e in varied()]
    swapped = signed_file(tmp_path / "s.rfim", [lines[0], lines[2], lines[1]], signer)
    with pytest.raises(BaselineRefused, match="entry 3 is out of order"):
        list(opened(swapped, signer.verifier()).lines())
    escaped = signed_file(tmp_path / "e.rfim", [lines[3], lines[2]], signer)  # backslash before quote
    with pytest.raises(BaselineRefused, match="entry 2 is out of order"):
        list(opened(escaped, signer.verifier()).lines())


def test_a_malformed_line_is_refused_when_used(tmp_path: Path, signer: Signer) -> None:
    good = encode_entry(Entry(b"/a", Kind.FILE, **STAT))
    bad = good.replace(b'"k":"f"', b'"k":"q"')
    twice = good.replace(b'{"p":"/a"', b'{"p":"/a","p":"/b"')
    for line in (bad, twice):
        path = signed_file(tmp_path / "m.rfim", [line], signer)
        keyed = list(opened(path, signer.verifier()).lines())
        assert keyed == [(path_key(b"/a"), line)]
        with pytest.raises(BaselineRefused, match="malformed"):
            list(compare_lines(keyed, [Entry(b"/a", Kind.FILE, **STAT)], POLICY))
        with pytest.raises(BaselineRefused, match="malformed"):
            list(compare_lines(keyed, [], POLICY))
