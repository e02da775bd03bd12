"""The rampart.inventory/1 document: round trip, and truncated, huge, malicious and malformed uploads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from rampart.errors import InventoryError
from rampart.fleet import inventory as inv
from rampart.fleet.inventory import build_inventory, parse_inventory
from rampart.model import FileError, OsRelease, Package

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
RESULT_ID = "7d2f8c3e-0b7a-4e55-9a51-3c6f2f0f9c11"
PKG = Package(
    "openssl", "1.1.1n-0+deb11u4", "Debian:11", "/var/lib/dpkg/status", "dpkg", "openssl", "1.1.1n-0+deb11u4"
)
PY = Package("jinja2", "2.11.3", "PyPI", "/usr/lib/python3/dist-packages", "python", managed_by="dpkg")


def document(**changes: Any) -> dict[str, Any]:
    base = orjson.loads(
        build_inventory([PKG], OsRelease("debian", "11", "Debian 11"), [], [], RESULT_ID, None, T0)
    )
    base.update(changes)
    return base


def parse(obj: Any) -> Any:
    return parse_inventory(orjson.dumps(obj))


def test_round_trip() -> None:
    data = build_inventory(
        [PKG, PY],
        OsRelease("debian", "11", "Debian 11"),
        ["slow disk"],
        [FileError("/x", "bad")],
        RESULT_ID,
        "job-1",
        T0,
    )
    parsed = parse_inventory(data)
    assert (parsed.id, parsed.job_id, parsed.collected_at) == (RESULT_ID, "job-1", T0)
    assert parsed.packages == (PKG, PY)
    assert parsed.os == OsRelease("debian", "11", "Debian 11")
    assert (parsed.warnings, parsed.errors) == (("slow disk",), (FileError("/x", "bad"),))
    assert parsed.size == len(data) and len(parsed.sha256) == 64


def test_agent_side_escapes_control_characters_and_caps_free_text() -> None:
    data = build_inventory(
        [], None, ["\x1b[31mred" + "x" * 600], [FileError("/a\nb", "m")], RESULT_ID, None, T0
    )
    parsed = parse_inventory(data)
    assert parsed.warnings[0].startswith("\\x1b[31mred") and len(parsed.warnings[0]) == inv.MAX_STRING
    assert parsed.errors == (FileError("/a\\x0ab", "m"),)


def test_minimal_document() -> None:
    parsed = parse(
        {
            "schema": inv.SCHEMA,
            "id": RESULT_ID.upper(),
            "collected_at": "2026-01-01T00:00:00Z",
            "packages": [],
        }
    )
    assert (parsed.id, parsed.os, parsed.packages, parsed.warnings) == (RESULT_ID, None, (), ())


@pytest.mark.parametrize("cut", [0, 1, 10, 100, -1])
def test_truncated(cut: int) -> None:
    data = build_inventory([PKG], None, [], [], RESULT_ID, None, T0)
    with pytest.raises(InventoryError, match="not valid UTF-8 JSON"):
        parse_inventory(data[:cut])


def test_huge_payload_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inv, "MAX_BYTES", 1000)
    with pytest.raises(InventoryError, match="larger than 1000 bytes"):
        parse_inventory(b" " * 1001)


def test_too_many_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inv, "MAX_PACKAGES", 2)
    with pytest.raises(InventoryError, match="more than 2 entries"):
        parse(document(packages=[document()["packages"][0]] * 3))


def test_giant_string() -> None:
    package = {**document()["packages"][0], "name": "a" * 513}
    with pytest.raises(InventoryError, match=r"packages\[0\].name is longer than 512"):
        parse(document(packages=[package]))


def test_deep_nesting() -> None:
    data = b'{"schema":"rampart.inventory/1","packages":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InventoryError):
        parse_inventory(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "ssl\x1b[2J", "control character"),
        ("version", "1\x00", "control character"),
        ("location", "/a\nb", "control character"),
        ("name", "", "must not be empty"),
        ("name", 5, "must be a string"),
        ("version", None, "must be a string"),
        ("source_name", ["x"], "must be a string"),
        ("purl", "pkg:x", "unknown key 'purl'"),
    ],
)
def test_malicious_or_mistyped_package_fields(field: str, value: Any, message: str) -> None:
    package = {**document()["packages"][0], field: value}
    with pytest.raises(InventoryError, match=message):
        parse(document(packages=[package]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schema": "rampart.inventory/2"}, "schema must be"),
        ({"extra": 1}, "unknown key 'extra'"),
        ({"id": "not-a-uuid"}, "id must be a UUID"),
        ({"id": 7}, "id must be a string"),
        ({"collected_at": "yesterday"}, "RFC 3339"),
        ({"collected_at": "2026-01-01T00:00:00"}, "in UTC"),
        ({"collected_at": "2026-01-01T00:00:00+02:00"}, "in UTC"),
        ({"packages": {"a": 1}}, "packages must be a list"),
        ({"packages": ["x"]}, r"packages\[0\] must be an object"),
        ({"packages": [{"name": "x", "version": "1"}]}, "lacks 'ecosystem'"),
        ({"os": "debian"}, "os must be an object"),
        ({"os": {"id": "debian", "kernel": "x"}}, "unknown key 'kernel'"),
        ({"warnings": "x"}, "warnings must be a list"),
        ({"warnings": [1]}, "must be a string"),
        ({"errors": [{"path": "/x"}]}, "lacks 'message'"),
        ({"job_id": {"x": 1}}, "job_id must be a string"),
    ],
)
def test_malformed_documents(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse(document(**changes))


@pytest.mark.parametrize(
    "data", [b"[]", b"null", b"1", b'"x"', b"\xff\xfe", b"{}", b'{"schema":"rampart.inventory/1"}']
)
def test_not_an_inventory(data: bytes) -> None:
    with pytest.raises(InventoryError):
        parse_inventory(data)


def test_missing_required_key() -> None:
    obj = document()
    del obj["collected_at"]
    with pytest.raises(InventoryError, match="lacks 'collected_at'"):
        parse(obj)


def test_unknown_key_in_message_is_escaped() -> None:
    with pytest.raises(InventoryError) as caught:
        parse(document(**{"\x1b[2J" + "k" * 200: 1}))
    assert "\x1b" not in caught.value.message and len(caught.value.message) < 120


def test_ids_are_canonical() -> None:
    assert parse(document(id=str(uuid.UUID(RESULT_ID)).upper())).id == RESULT_ID
