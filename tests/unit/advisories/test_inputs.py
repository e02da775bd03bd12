"""Reading records from zips, folders and files: caps, damaged archives and hostile member names."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from rampart.advisories.inputs import (
    SUSPICIOUS_RATIO,
    Limits,
    count_members,
    iter_records,
    iter_zip,
)
from rampart.advisories.osv import TOO_LARGE
from rampart.errors import LimitExceeded, ParseError


def osv(record_id: str) -> bytes:
    return json.dumps({"id": record_id, "modified": "2024-01-01T00:00:00Z"}).encode()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_members_are_read_in_order(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {"A-1.json": osv("A-1"), "dir/": b"", "B-2.yaml": b"id: B-2"})
    records = list(iter_zip(path))
    assert [(r.origin.rsplit(":", 1)[1], r.fmt, r.problem) for r in records] == [
        ("'A-1.json'", "json", None),
        ("'B-2.yaml'", "yaml", None),
    ]
    assert records[0].data == osv("A-1")


def test_path_traversal_names_are_only_labels(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = make_zip(work / "evil.zip", {"../../escaped.json": osv("E-1"), "/etc/abs.json": osv("E-2")})
    records = list(iter_zip(path))
    assert [json.loads(r.data)["id"] for r in records] == ["E-1", "E-2"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "work"]


def test_not_a_zip_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ParseError, match="not a readable zip"):
        list(iter_zip(path))


def test_crc_damage_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("A-1.json", osv("A-1"))
    blob = bytearray(path.read_bytes())
    blob[blob.index(b'"A-1"') + 1] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(ParseError, match="corrupt zip member"):
        list(iter_zip(path))


def test_truncated_zip_is_a_parse_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {f"A-{i}.json": osv(f"A-{i}") for i in range(50)})
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ParseError):
        list(iter_zip(path))


def test_zip_bomb_member_is_skipped_by_ratio(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bomb.zip", {"bomb.json": b" " * (4 << 20), "ok.json": osv("OK-1")})
    records = list(iter_zip(path))
    assert [r.problem for r in records] == [SUSPICIOUS_RATIO, None]
    assert records[0].data == b""


def test_oversized_member_is_skipped(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.zip", {"big.json": bytes(range(256)) * 400})
    records = list(iter_zip(path, Limits(max_record_bytes=10_000)))
    assert [r.problem for r in records] == [TOO_LARGE]


def test_member_count_cap(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "many.zip", {f"A-{i}.json": osv(f"A-{i}") for i in range(11)})
    with pytest.raises(LimitExceeded, match="11 members"):
        count_members(path, Limits(max_members=10))
    with pytest.raises(LimitExceeded):
        list(iter_zip(path, Limits(max_members=10)))


def test_total_bytes_cap(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", {f"A-{i}.json": osv(f"A-{i}") for i in range(10)})
    with pytest.raises(LimitExceeded, match="uncompressed"):
        list(iter_zip(path, Limits(max_total_bytes=200)))


def test_folder_walk_finds_json_yaml_and_zips_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.json").write_bytes(osv("A-1"))
    (tmp_path / "sub" / "b.yml").write_text("id: B-1\n")
    (tmp_path / "sub" / "deeper" / "c.YAML").write_text("id: C-1\n")
    (tmp_path / "notes.txt").write_text("ignored")
    make_zip(tmp_path / "sub" / "z.zip", {"Z-1.json": osv("Z-1")})
    records = list(iter_records([tmp_path]))
    assert [r.fmt for r in records] == ["json", "yaml", "json", "yaml"]  # a folder before its subfolders
    assert len({r.origin for r in records}) == 4


def test_single_oversized_file_is_counted_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000)
    (record,) = iter_records([path], Limits(max_record_bytes=1000))
    assert record.problem == TOO_LARGE


def test_missing_path_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no such file"):
        list(iter_records([tmp_path / "absent.json"]))
