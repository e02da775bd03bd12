"""RecordingWriter: segments, header, end record, UTF-8 across chunks, base64 for raw bytes, failures."""

from __future__ import annotations

import base64
import threading
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import RecordingError, RecordingStoreError
from rampart.recording.blobstore import MemoryBlobStore
from rampart.recording.layout import END_DOMAIN, GENESIS, blob_hash
from rampart.recording.reader import read_recording
from rampart.recording.signing import key_id
from rampart.recording.writer import RecordingWriter

HEADER = {"kind": "shell", "user": "alice", "hostname": "web-1", "login": "deploy", "cols": 120, "rows": 40}


def make_writer(store: MemoryBlobStore, key: Ed25519PrivateKey, clock: Any, **kw: Any) -> RecordingWriter:
    return RecordingWriter(store, "s1", HEADER, key, clock=clock, wall_clock=lambda: 1_700_000_000.0, **kw)


def lines(store: MemoryBlobStore, key: str) -> list[Any]:
    return [orjson.loads(line) for line in store.blobs[key].splitlines()]


def test_first_segment_has_chain_line_and_asciicast_header(
    store: MemoryBlobStore, key: Any, clock: Any
) -> None:
    writer = make_writer(store, key, clock)
    clock.now += 1.5
    writer.event("o", "hello\r\n")
    writer.flush()
    meta, header, event = lines(store, "sessions/s1/seg-000001.jsonl")
    assert meta == {"segment": 1, "session": "s1", "prev": GENESIS}
    assert header["version"] == 2
    assert (header["width"], header["height"], header["timestamp"]) == (120, 40, 1_700_000_000)
    assert header["title"] == "deploy@web-1"
    assert header["env"] == {"TERM": "xterm-256color"}
    assert header["rampart"]["user"] == "alice"
    assert header["rampart"]["session"] == "s1"
    assert event == [1.5, "o", "hello\r\n"]


def test_times_are_rounded_to_microseconds(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    clock.now += 0.123456789
    writer.event("m", "mark")
    writer.flush()
    assert lines(store, "sessions/s1/seg-000001.jsonl")[2] == [0.123457, "m", "mark"]


def test_second_segment_chains_to_first(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.event("o", "a")
    writer.flush()
    writer.event("o", "b")
    writer.flush()
    first = store.blobs["sessions/s1/seg-000001.jsonl"]
    meta, event = lines(store, "sessions/s1/seg-000002.jsonl")
    assert meta == {"segment": 2, "session": "s1", "prev": blob_hash(first)}
    assert event == [0.0, "o", "b"]
    assert writer.segments == 2


def test_empty_flushes_write_only_segment_one(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.flush()
    writer.flush()
    assert list(store.blobs) == ["sessions/s1/seg-000001.jsonl"]


def test_flush_due_after_segment_bytes(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock, segment_bytes=100)
    writer.event("o", "x" * 50)
    assert not writer.flush_due()
    writer.event("o", "x" * 50)
    assert writer.flush_due()
    writer.flush()
    assert not writer.flush_due()


def test_large_backlog_is_split_into_bounded_segments(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock, segment_bytes=1000)
    for i in range(100):
        writer.event("o", f"{i:03d}" + "y" * 90)
    writer.close({"reason": "exit"})
    segs = [k for k in store.blobs if "seg-" in k]
    assert len(segs) > 5
    assert all(len(store.blobs[k]) < 1500 for k in segs[1:])
    rec = read_recording(store, "s1", key.public_key())
    assert [e[2][:3] for e in rec.events] == [f"{i:03d}" for i in range(100)]


def test_huge_event_is_split_into_pieces(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.event("o", "\x1b" * 600_000)  # escapes to 6 bytes each in JSON
    writer.close({})
    rec = read_recording(store, "s1", key.public_key())
    assert "".join(e[2] for e in rec.events) == "\x1b" * 600_000


def test_utf8_split_across_chunks_is_kept_whole(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    data = "héllo wörld ✓ 🎉".encode()
    for i in range(len(data)):
        writer.output("o", data[i : i + 1])
    writer.close({})
    rec = read_recording(store, "s1", key.public_key())
    assert "".join(e[2] for e in rec.events) == "héllo wörld ✓ 🎉"
    assert {e[1] for e in rec.events} == {"o"}


def test_invalid_utf8_on_shell_output_becomes_replacement(
    store: MemoryBlobStore, key: Any, clock: Any
) -> None:
    writer = make_writer(store, key, clock)
    writer.output("o", b"a\xffb\xe2\x9c")  # ends mid-character: flushed as U+FFFD at close
    writer.close({})
    rec = read_recording(store, "s1", key.public_key())
    assert "".join(e[2] for e in rec.events) == "a\ufffdb\ufffd"


def test_lossless_stream_uses_base64_for_raw_bytes(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    chunks = [b"text \xe2\x9c", b"\x93 ok\n", b"\x00\x01\xff\xfe binary", b"more text\n", b"tail \xf0\x9f"]
    for chunk in chunks:
        writer.output("o", chunk, lossless=True)
    writer.output("e", b"err\xc3", lossless=True)
    writer.close({"exit_code": 0})
    rec = read_recording(store, "s1", key.public_key())
    out = b"".join(
        base64.b64decode(d) if c == "ob" else d.encode() for _, c, d in rec.events if c in ("o", "ob")
    )
    err = b"".join(
        base64.b64decode(d) if c == "eb" else d.encode() for _, c, d in rec.events if c in ("e", "eb")
    )
    assert out == b"".join(chunks)
    assert err == b"err\xc3"
    codes = [c for _, c, _ in rec.events]
    assert "ob" in codes and "o" in codes and "eb" in codes


def test_unknown_codes_are_refused(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    with pytest.raises(RecordingError):
        writer.event("zz", "x")
    with pytest.raises(RecordingError):
        writer.output("r", b"80x24")


def test_bad_session_ids_are_refused(store: MemoryBlobStore, key: Any) -> None:
    for sid in ["", "a/b", "..", "../x", ".hidden", "x" * 200, "a b"]:
        with pytest.raises(RecordingError):
            RecordingWriter(store, sid, {}, key)


def test_lone_surrogates_do_not_break_writing(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.event("o", "a\ud800b")
    writer.close({})
    assert read_recording(store, "s1", key.public_key()).events[0][2] == "a?b"


def test_end_record_is_signed_over_canonical_form(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.event("o", "x")
    writer.close({"reason": "exit", "exit_code": 3, "bytes_out": 1})
    end = orjson.loads(store.blobs["sessions/s1/end.json"])
    assert end["session"] == "s1"
    assert end["segments"] == 1
    assert end["head"] == blob_hash(store.blobs["sessions/s1/seg-000001.jsonl"])
    assert end["ended_at"] == "2023-11-14T22:13:20Z"
    assert (end["reason"], end["exit_code"], end["bytes_out"]) == ("exit", 3, 1)
    assert end["key"] == key_id(key.public_key())
    body = {k: v for k, v in end.items() if k != "signature"}
    message = END_DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    key.public_key().verify(base64.b64decode(end["signature"]), message)


def test_end_fields_may_not_override_chain_fields(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    for name in ("session", "segments", "head", "key", "signature"):
        with pytest.raises(RecordingError):
            writer.close({name: "x"})


def test_events_after_close_are_ignored(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.close({})
    writer.event("o", "late")
    assert writer.segments == 1
    assert read_recording(store, "s1", key.public_key()).events == []


def test_store_failure_keeps_data_for_next_attempt(store: MemoryBlobStore, key: Any, clock: Any) -> None:
    writer = make_writer(store, key, clock)
    writer.event("o", "one")
    writer.flush()
    writer.event("o", "two")
    store.fail = "disk full"
    with pytest.raises(RecordingStoreError):
        writer.flush()
    writer.event("o", "three")
    with pytest.raises(RecordingStoreError):
        writer.close({"reason": "exit"})
    store.fail = None
    writer.close({"reason": "exit"})
    rec = read_recording(store, "s1", key.public_key())
    assert [e[2] for e in rec.events] == ["one", "two", "three"]
    assert rec.complete and rec.segments == 2


def test_failure_in_the_middle_of_a_split_flush(key: Any, clock: Any) -> None:
    class FlakyStore(MemoryBlobStore):
        def __init__(self) -> None:
            super().__init__()
            self.puts_left = 2

        def put(self, k: str, data: bytes) -> None:
            if self.puts_left == 0:
                raise RecordingStoreError("flaky")
            self.puts_left -= 1
            super().put(k, data)

    store = FlakyStore()
    writer = make_writer(store, key, clock, segment_bytes=200)
    for i in range(20):
        writer.event("o", f"{i:02d}" + "z" * 40)
    with pytest.raises(RecordingStoreError):
        writer.flush()
    assert writer.segments == 2
    store.puts_left = 1000
    writer.close({})
    rec = read_recording(store, "s1", key.public_key())
    assert [e[2][:2] for e in rec.events] == [f"{i:02d}" for i in range(20)]


def test_concurrent_events_and_flushes(store: MemoryBlobStore, key: Any) -> None:
    writer = RecordingWriter(store, "s1", HEADER, key, segment_bytes=500)
    stop = threading.Event()

    def flusher() -> None:
        while not stop.is_set():
            writer.flush()

    thread = threading.Thread(target=flusher)
    thread.start()
    for i in range(2000):
        writer.event("o", f"{i},")
    stop.set()
    thread.join()
    writer.close({})
    rec = read_recording(store, "s1", key.public_key())
    assert "".join(e[2] for e in rec.events) == "".join(f"{i}," for i in range(2000))
