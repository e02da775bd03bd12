"""The JSON-lines file sink: round trip, strict reading with line numbers, follow(), export."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

from rampart.audit.chain import Anchor, AuditChain, BreakReason
from rampart.audit.codec import to_record
from rampart.audit.events import AuditEvent
from rampart.audit.sinks import BadLine, JsonLinesFileSink, export_jsonl, follow, read_jsonl, verify_file
from unit.audit.sample import make_events


def _write_log(path: Path, count: int) -> list[AuditEvent]:
    return make_events(count, JsonLinesFileSink(path))


def _bad(items: list[AuditEvent | BadLine]) -> list[BadLine]:
    return [item for item in items if isinstance(item, BadLine)]


def test_round_trip_is_exact_and_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    events = _write_log(path, 4)
    assert list(read_jsonl(path)) == events
    assert path.read_bytes().count(b"\n") == 4
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert verify_file(path, Anchor(4, events[-1].hash)).ok


def test_lines_are_ascii_so_control_characters_stay_escaped(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    event = AuditChain().append("zoë\x1b[31m\x9b", "auth.login.failure", "console", "failure")
    JsonLinesFileSink(path).write(event)
    raw = path.read_bytes()
    assert raw.isascii() and b"\x1b" not in raw
    assert list(read_jsonl(path)) == [event]


def _corrupt(tmp_path: Path, replacement: bytes, index: int = 1) -> tuple[Path, list[AuditEvent | BadLine]]:
    path = tmp_path / "audit.jsonl"
    path.unlink(missing_ok=True)
    _write_log(path, 4)
    lines = path.read_bytes().split(b"\n")
    lines[index] = replacement
    path.write_bytes(b"\n".join(lines))
    return path, list(read_jsonl(path))


def test_truncated_json_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path, items = _corrupt(tmp_path, b'{"seq": 2, "time": "2026')
    assert _bad(items) == [BadLine(2, "line is not valid JSON")]
    assert len(items) == 4
    result = verify_file(path)
    assert (result.position, result.reason, result.checked) == (2, BreakReason.MALFORMED, 1)


def test_non_object_and_wrong_types_are_reported(tmp_path: Path) -> None:
    _, items = _corrupt(tmp_path, b"[1, 2, 3]")
    assert [b.line_no for b in _bad(items)] == [2] and "JSON object" in _bad(items)[0].message
    record = to_record(make_events(3)[2])
    record["seq"] = "3"
    _, items = _corrupt(tmp_path, json.dumps(record).encode(), index=2)
    assert [b.line_no for b in _bad(items)] == [3] and "seq" in _bad(items)[0].message


def test_extra_field_duplicate_key_and_nan_are_reported(tmp_path: Path) -> None:
    record = to_record(make_events(2)[1])
    for raw in (
        json.dumps({**record, "extra": 1}).encode(),
        json.dumps(record)[:-1].encode() + b', "seq": 2}',
        json.dumps(record).replace('"seq": 2', '"seq": NaN').encode(),
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,
    ):
        _, items = _corrupt(tmp_path, raw)
        assert [b.line_no for b in _bad(items)] == [2], raw[:40]


def test_ten_megabyte_line_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    path, items = _corrupt(tmp_path, b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}')
    assert _bad(items) == [BadLine(2, "line is longer than the limit")]
    assert [e.seq for e in items if isinstance(e, AuditEvent)] == [1, 3, 4]
    assert verify_file(path).position == 2


def test_cut_short_last_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    events = _write_log(path, 3)
    path.write_bytes(path.read_bytes()[:-20])
    items = list(read_jsonl(path))
    assert _bad(items) == [BadLine(3, "line is cut short (no newline at the end of the file)")]
    result = verify_file(path, Anchor(3, events[-1].hash))
    assert (result.position, result.reason) == (3, BreakReason.MALFORMED)


def test_chain_break_before_a_bad_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write_log(path, 5)
    lines = path.read_bytes().split(b"\n")
    del lines[1]
    lines[3] = b"garbage"
    path.write_bytes(b"\n".join(lines))
    result = verify_file(path)
    assert (result.position, result.reason) == (2, BreakReason.GAP)


def test_export_is_one_json_object_per_line() -> None:
    events = make_events(3)
    text = export_jsonl(events)
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == 3
    assert [json.loads(line)["hash"] for line in lines] == [e.hash for e in events]


def test_follow_sees_events_appended_by_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    stop = threading.Event()
    expected = make_events(6)
    seen: list[AuditEvent | BadLine] = []

    def writer() -> None:
        sink = JsonLinesFileSink(path)
        for event in expected:
            sink.write(event)
            stop.wait(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    for item in follow(path, stop, poll_seconds=0.01):
        seen.append(item)
        if len(seen) == len(expected):
            stop.set()
    thread.join(timeout=5)
    assert seen == expected


def test_follow_holds_a_partial_line_until_it_is_finished(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    events = make_events(2)
    lines = export_jsonl(events).encode()
    path.write_bytes(lines[:-30])
    stop = threading.Event()
    stream = follow(path, stop, poll_seconds=0.01)
    assert next(stream) == events[0]

    def finish_line() -> None:
        with path.open("ab") as handle:
            handle.write(lines[-30:])

    timer = threading.Timer(0.05, finish_line)
    timer.start()
    assert next(stream) == events[1]
    stop.set()
    assert list(stream) == []
    timer.join()


def test_follow_reports_a_shrunk_file_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write_log(path, 2)
    stop = threading.Event()
    stream = follow(path, stop, poll_seconds=0.01)
    assert isinstance(next(stream), AuditEvent) and isinstance(next(stream), AuditEvent)
    path.write_bytes(b"")
    tail = list(stream)
    assert len(tail) == 1 and isinstance(tail[0], BadLine) and "shrank" in tail[0].message
