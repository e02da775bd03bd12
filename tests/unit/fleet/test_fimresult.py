"""The fim upload document: a round trip, and hostile uploads refused with the first problem named."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from rampart.errors import InventoryError
from rampart.fim.model import Cause
from rampart.fleet import fimresult
from rampart.fleet.fimresult import MAX_BYTES, MAX_CHANGES, build_fim_result, fingerprint, parse_fim_result
from unit.fleet.fim_samples import BASELINE, T0, changed, fim_bytes, removed


def document(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(fim_bytes([changed(b"/etc/passwd", 10)]))
    value.update(changes)
    return value


def change_doc(**fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = document()["changes"][0]
    value.update(fields)
    return value


def refused_with(value: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        parse_fim_result(orjson.dumps(value))


def test_a_round_trip_keeps_paths_causes_and_fingerprints() -> None:
    odd = b"/srv/\xff\x1b[2Jname " + b"d" * 600  # not UTF-8, a control sequence, longer than any text field
    source = [changed(odd, 7, Cause.PACKAGE_MODIFIED, "openssl"), removed(b"/etc/gone")]
    result_id = str(uuid.uuid4())
    data = fim_bytes(source, errors=((b"/root/x", "permission denied\n"),), result_id=result_id, job_id="j1")
    parsed = parse_fim_result(data)
    assert (parsed.id, parsed.job_id, parsed.collected_at, parsed.entries) == (result_id, "j1", T0, 100)
    assert parsed.baseline == BASELINE and parsed.refused is None and parsed.size == len(data)
    first, second = parsed.changes
    assert (first.path, first.change, first.cause, first.package) == (
        odd,
        "changed",
        "package-modified",
        "openssl",
    )
    assert first.fingerprint == fingerprint(source[0]) and len(first.fingerprint) == 64
    assert (second.path, second.change, second.fingerprint) == (b"/etc/gone", "removed", "")
    assert parsed.errors == ((b"/root/x", "permission denied\\x0a"),)


def test_a_refusal_round_trips() -> None:
    parsed = parse_fim_result(fim_bytes([], refused="bad signature\x1b"))
    assert parsed.refused == "bad signature\\x1b" and parsed.changes == () and parsed.entries == 0


def test_truncated_and_non_json_uploads() -> None:
    data = fim_bytes([changed(b"/etc/passwd", 10)])
    for broken in (data[: len(data) // 2], b"", b"\xff\xfe", b"[]", b"null"):
        with pytest.raises(InventoryError):
            parse_fim_result(broken)


def test_a_huge_upload_is_refused_before_it_is_read() -> None:
    with pytest.raises(InventoryError, match="larger than"):
        parse_fim_result(b" " * (MAX_BYTES + 1))


def test_too_many_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fimresult, "MAX_CHANGES", 3)
    refused_with(document(changes=[change_doc()] * 4), "changes has more than 3 entries")
    assert MAX_CHANGES == 100_000


def test_too_many_attributes() -> None:
    attribute = {"name": "size", "before": "1", "after": "2"}
    refused_with(document(changes=[change_doc(attributes=[attribute] * 33)]), "more than 32")


WRONG: list[tuple[Callable[[], dict[str, Any]], str]] = [
    (lambda: document(schema="rampart.inventory/1"), "must be a 'rampart.fim.result/1' object"),
    (lambda: document(id="not-a-uuid"), "id must be a UUID"),
    (lambda: document(id=7), "id must be a string"),
    (lambda: document(entries=-1), "entries must be a whole number"),
    (lambda: document(entries=True), "entries must be a whole number"),
    (lambda: document(entries="5"), "entries must be a whole number"),
    (lambda: document(changes={}), "changes must be a list"),
    (lambda: document(changes=["x"]), r"changes\[0\] must be an object"),
    (lambda: document(collected_at="yesterday"), "collected_at must be an RFC 3339 time"),
    (lambda: document(collected_at="2026-01-01T00:00:00+02:00"), "collected_at must be in UTC"),
    (lambda: document(collected_at="2026-01-01T00:00:00"), "collected_at must be in UTC"),
    (lambda: document(baseline=[]), "baseline must be an object"),
    (lambda: document(baseline={"created": "", "digest": ""}), "baseline has an unknown or missing key"),
    (lambda: document(refused=1), "refused must be a string"),
    (lambda: document(job_id=["j"]), "job_id must be a string"),
    (lambda: document(changes=[change_doc(change="moved")]), r"changes\[0\].change must be one of"),
    (lambda: document(changes=[change_doc(cause="magic")]), r"changes\[0\].cause must be one of"),
    (lambda: document(changes=[change_doc(fingerprint="ab")]), "fingerprint must be a SHA-256"),
    (lambda: document(changes=[change_doc(package=3)]), r"changes\[0\].package must be a string"),
    (lambda: document(changes=[change_doc(attributes=[{"name": "size"}])]), "unknown or missing key"),
    (lambda: document(changes=[change_doc(attributes=["size"])]), r"attributes\[0\] must be an object"),
]


@pytest.mark.parametrize(("make", "message"), WRONG)
def test_wrong_types_and_values(make: Callable[[], dict[str, Any]], message: str) -> None:
    refused_with(make(), message)


@pytest.mark.parametrize(
    ("path_b64", "message"),
    [
        ("not base64!", "is not base64"),
        ("L2V0Yy9wYXNzd2Q", "is not base64"),  # missing padding
        ("L2V0\nYy9wYXNzd2Q=", "is not base64"),
        (base64.b64encode(b"etc/passwd").decode(), "must be an absolute path"),
        (base64.b64encode(b"").decode(), "must be an absolute path"),
        (base64.b64encode(b"/etc/\x00passwd").decode(), "without NUL bytes"),
        (base64.b64encode(b"/" * 4097).decode(), "at most 4096 bytes"),
        (42, "at most 4096 bytes"),
    ],
)
def test_bad_paths(path_b64: object, message: str) -> None:
    refused_with(document(changes=[change_doc(path_b64=path_b64)]), message)
    refused_with(document(errors=[{"path_b64": path_b64, "message": "m"}]), message)


def test_control_characters_in_any_text_are_refused() -> None:
    refused_with(document(refused="x\x1b[2J"), "refused contains a control character")
    refused_with(document(changes=[change_doc(note="a\nb")]), r"changes\[0\].note contains a control")
    refused_with(document(errors=[{"path_b64": "L2E=", "message": "\x07"}]), "message contains a control")
    attribute = {"name": "size", "before": "1", "after": "\x9b" + "\x00"}
    refused_with(document(changes=[change_doc(attributes=[attribute])]), "contains a control character")


def test_overlong_text_is_refused() -> None:
    refused_with(document(changes=[change_doc(package="p" * 513)]), "longer than 512 characters")


def test_unknown_and_missing_keys() -> None:
    refused_with(document(extra=1), "unknown or missing key 'extra'")
    missing = document()
    del missing["entries"]
    refused_with(missing, "unknown or missing key 'entries'")
    refused_with(document(changes=[change_doc(mode="0644")]), "unknown or missing key 'mode'")
    refused_with(document(errors=[{"path_b64": "L2E=", "message": "m", "x": 1}]), "unknown or missing key")


def test_the_builder_caps_what_it_writes() -> None:
    long_note = changed(b"/a", 2)
    data = build_fim_result(
        None, {}, str(uuid.uuid4()), None, datetime(2026, 1, 1, tzinfo=UTC), refused="r" * 900
    )
    assert len(parse_fim_result(data).refused or "") == 512
    assert parse_fim_result(fim_bytes([long_note])).changes[0].path == b"/a"


def test_an_upload_says_whether_it_holds_every_change(monkeypatch: pytest.MonkeyPatch) -> None:
    two = [changed(b"/etc/a", 1), changed(b"/etc/b", 1)]
    assert parse_fim_result(fim_bytes(two)).complete
    monkeypatch.setattr(fimresult, "MAX_CHANGES", 1)
    cut = parse_fim_result(fim_bytes(two))
    assert not cut.complete and len(cut.changes) == 1
