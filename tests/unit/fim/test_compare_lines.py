"""Raw baseline lines against now: the same answers as decoded entries, decoding only the lines that differ."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import orjson
import pytest
import zstandard

from rampart.errors import BaselineRefused
from rampart.fim.baseline import MAGIC, SIGNED_CONTEXT, Baseline, open_baseline, write_baseline
from rampart.fim.compare import LineReuse, QuickReuse, compare, compare_lines
from rampart.fim.entrycodec import decode_entry, encode_entry
from rampart.fim.model import Attr, Entry, HashName, Kind
from rampart.fim.order import path_key
from rampart.fim.policy import Policy, Rule
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


@pytest.mark.parametrize("index", range(len(varied())))
def test_line_reuse_answers_what_quick_reuse_answers(index: int) -> None:
    base = varied()
    for now in variants(base[index]):
        if now.kind is not Kind.FILE:
            continue
        walked = dataclasses.replace(now, digest=None)
        quick, raw = QuickReuse(iter(base)), LineReuse(lines_of(base))
        assert raw(dataclasses.replace(walked)) == quick(walked)
        assert raw.hits == quick.hits


def test_line_reuse_and_compare_lines_together_report_only_real_changes() -> None:
    base = varied()
    reuse = LineReuse(lines_of(base))
    tree = []
    for entry in base:
        walked = dataclasses.replace(entry, digest=None)
        if walked.kind is Kind.FILE and (digest := reuse(walked)) is not None:
            walked = dataclasses.replace(walked, digest=digest)
        tree.append(walked)
    assert [e.digest for e in tree] == [e.digest for e in base]
    assert list(compare_lines(lines_of(base), tree, POLICY, reuse)) == list(compare(base, tree, POLICY))
    assert not reuse.same


def test_line_reuse_wants_the_exact_digest_form() -> None:
    entry = Entry(b"/a", Kind.FILE, digest=b"\xab" * 32, **STAT)
    line = encode_entry(entry)
    upper = line.replace(b"ab" * 32, b"AB" * 32)
    walked = dataclasses.replace(entry, digest=None)
    reuse = LineReuse([(path_key(b"/a"), upper)])
    assert reuse(walked) == b"\xab" * 32  # decoded and judged as QuickReuse does
    assert not reuse.same  # but not taken for the same bytes


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
