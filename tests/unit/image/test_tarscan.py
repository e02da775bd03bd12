"""The streaming tar reader: the same members as tarfile for every format writers use, and strict on damage."""

from __future__ import annotations

import io
import tarfile

import pytest

from rampart.image.tarscan import BLOCK, Member, TarError, TarReader, number, parse_pax

LONG = "deep/" * 30 + "name-past-one-hundred-characters.txt"


def _archive(fmt: int, pax_headers: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, pax_headers=pax_headers or {}) as tar:
        for name, kind, data, link in [
            ("etc", tarfile.DIRTYPE, b"", ""),
            ("etc/passwd", tarfile.REGTYPE, b"root:x:0:0\n", ""),
            (LONG, tarfile.REGTYPE, b"x" * 1500, ""),
            ("usr/bin/sh", tarfile.SYMTYPE, b"", "dash"),
            ("usr/bin/long-link", tarfile.SYMTYPE, b"", LONG),
            ("usr/bin/hard", tarfile.LNKTYPE, b"", "etc/passwd"),
            ("dev/fifo", tarfile.FIFOTYPE, b"", ""),
            ("ünïcode/名前", tarfile.REGTYPE, b"u", ""),
            ("empty", tarfile.REGTYPE, b"", ""),
        ]:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.linkname, info.mode = kind, len(data), link, 0o4755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _read_all(data: bytes) -> tuple[list[tuple[Member, bytes | None]], TarReader]:
    reader = TarReader(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]
    found = []
    while (member := reader.next()) is not None:
        found.append((member, reader.read_data(member) if member.isreg() else None))
    return found, reader


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_members_match_tarfile_for_each_format(fmt: int) -> None:
    data = _archive(fmt)
    found, reader = _read_all(data)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        expected = [(m, tar.extractfile(m).read() if m.isreg() else None) for m in tar]  # type: ignore[union-attr]
    assert reader.ended
    assert len(found) == len(expected)
    for (mine, data_mine), (theirs, data_theirs) in zip(found, expected, strict=True):
        assert (mine.name, mine.size, mine.mode, mine.linkname, mine.offset) == (
            theirs.name,
            theirs.size,
            theirs.mode,
            theirs.linkname,
            theirs.offset,
        )
        assert (mine.isreg(), mine.isdir(), mine.issym(), mine.islnk()) == (
            theirs.isreg(),
            theirs.isdir(),
            theirs.issym(),
            theirs.islnk(),
        )
        assert data_mine == data_theirs


def test_ustar_names_split_over_the_prefix_field_are_joined() -> None:
    name = "a" * 120 + "/b.txt"
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        tar.addfile(info, io.BytesIO(b""))
    found, _ = _read_all(out.getvalue())
    assert [m.name for m, _ in found] == [name]


def test_a_global_pax_header_is_read_and_members_follow() -> None:
    found, reader = _read_all(_archive(tarfile.PAX_FORMAT, {"comment": "built by a test"}))
    assert [m.name for m, _ in found][:2] == ["etc", "etc/passwd"]
    assert reader.ended


def test_numbers_in_octal_and_base_256() -> None:
    assert number(b"0000644\0") == 0o644
    assert number(b"   17 \0") == 0o17
    assert number(b"\0" * 8) == 0
    assert number(b"\x80" + (5_000_000_000).to_bytes(11, "big")) == 5_000_000_000
    assert number(b"\xff" * 8) == -1
    with pytest.raises(TarError, match="invalid number"):
        number(b"12x4\0")


def _block(name: bytes, kind: bytes, size: int, size_field: bytes | None = None) -> bytes:
    header = bytearray(BLOCK)
    header[0 : len(name)] = name
    header[100:108] = b"0000644\0"
    header[124:136] = size_field or b"%011o\0" % size
    header[148:156] = b" " * 8
    header[156:157] = kind
    header[257:263] = b"ustar\0"
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def test_sparse_and_unknown_entries_are_listed_not_read_and_their_data_passed_over() -> None:
    data = (
        _block(b"sparse", b"S", 600)
        + _padded(b"s" * 600)
        + _block(b"volume", b"V", 10)
        + _padded(b"v" * 10)
        + _block(b"after", b"0", 3)
        + _padded(b"abc")
        + bytes(2 * BLOCK)
    )
    found, reader = _read_all(data)
    assert [(m.name, m.isreg(), payload) for m, payload in found] == [
        ("sparse", False, None),
        ("volume", False, None),
        ("after", True, b"abc"),
    ]
    assert reader.ended


def test_a_bad_checksum_anywhere_is_an_error() -> None:
    good = _block(b"a", b"0", 0)
    bad = bytearray(_block(b"b", b"0", 0))
    bad[0] = ord("c")
    with pytest.raises(TarError, match="bad checksum in the tar header at offset 512"):
        _read_all(good + bytes(bad) + bytes(2 * BLOCK))


def test_damage_and_early_ends() -> None:
    with pytest.raises(TarError, match="empty file"):
        _read_all(b"")
    found, reader = _read_all(_block(b"a", b"0", 0) + b"\1" * 100)
    assert [m.name for m, _ in found] == ["a"] and not reader.ended
    with pytest.raises(TarError, match="unexpected end of data"):
        _read_all(_block(b"a", b"0", 1000) + b"x" * 10)
    with pytest.raises(TarError, match="negative size"):
        _read_all(_block(b"a", b"0", 0, size_field=b"\xff" * 12))


def test_malformed_pax_records_are_errors() -> None:
    headers: dict[str, str] = {}
    parse_pax(b"16 path=a/b/cde\n", headers)
    assert headers == {"path": "a/b/cde"}
    for bad in (b"99 path=a\n", b"x path=a\n", b"5 path=abcdef\n", b"12 path=abcd!"):
        with pytest.raises(TarError, match="malformed pax"):
            parse_pax(bad, {})


def test_data_is_given_once_and_only_for_the_current_member() -> None:
    reader = TarReader(io.BufferedReader(io.BytesIO(_archive(tarfile.PAX_FORMAT))))  # type: ignore[arg-type]
    first = reader.next()
    passwd = reader.next()
    assert first is not None and passwd is not None
    assert reader.read_data(passwd) == b"root:x:0:0\n"
    with pytest.raises(TarError, match="already passed"):
        reader.read_data(passwd)
