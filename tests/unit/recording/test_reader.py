"""read_recording / verify_recording: round trips, tampering of every kind, malformed and hostile content."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import RecordingError, RecordingNotFound, RecordingTampered
from rampart.recording.blobstore import LocalBlobStore, MemoryBlobStore
from rampart.recording.layout import GENESIS, blob_hash, end_message
from rampart.recording.reader import read_recording, verify_recording
from rampart.recording.writer import RecordingWriter

SEG1, SEG2, SEG3 = (f"sessions/s1/seg-00000{i}.jsonl" for i in (1, 2, 3))
END = "sessions/s1/end.json"


def record(store: Any, key: Ed25519PrivateKey, sid: str = "s1", *, close: bool = True) -> None:
    now = [0.0]
    writer = RecordingWriter(store, sid, {"kind": "shell", "cols": 80, "rows": 24}, key, clock=lambda: now[0])
    for i in range(3):
        now[0] += 0.5
        writer.event("o", f"{sid} line {i}\r\n")
        writer.event("r", "100x30")
        writer.flush()
    if close:
        writer.close({"reason": "exit", "exit_code": 0})


def test_round_trip(store: MemoryBlobStore, key: Ed25519PrivateKey) -> None:
    record(store, key)
    rec = read_recording(store, "s1", key.public_key())
    assert rec.complete and rec.verified
    assert rec.segments == 3
    assert rec.header["width"] == 80 and rec.header["rampart"]["kind"] == "shell"
    assert rec.events[0] == (0.5, "o", "s1 line 0\r\n")
    assert rec.events[1] == (0.5, "r", "100x30")
    assert len(rec.events) == 6
    assert rec.end is not None and rec.end["reason"] == "exit"
    assert rec.duration == 1.5


def test_round_trip_on_local_store(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    store = LocalBlobStore(tmp_path)
    record(store, key)
    assert read_recording(store, "s1", key.public_key()).complete


def test_without_key_chain_is_checked_but_signature_not(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    rec = read_recording(store, "s1", None)
    assert rec.complete and not rec.verified


def test_incomplete_recording_is_not_an_error(store: MemoryBlobStore, key: Any) -> None:
    record(store, key, close=False)
    rec = read_recording(store, "s1", key.public_key())
    assert not rec.complete and rec.end is None and len(rec.events) == 6


def test_missing_recording(store: MemoryBlobStore, key: Any) -> None:
    with pytest.raises(RecordingNotFound):
        read_recording(store, "nope", key.public_key())


def test_verify_report(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    report = verify_recording(store, "s1", key.public_key())
    assert report.complete and report.verified and report.segments == 3 and report.events == 6
    assert "chain intact" in str(report) and "complete" in str(report)


def test_every_single_byte_change_is_caught(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    pristine = dict(store.blobs)
    for name, blob in pristine.items():
        for pos in range(len(blob)):
            for flip in (0x01, 0x20):
                store.blobs = {**pristine, name: blob[:pos] + bytes([blob[pos] ^ flip]) + blob[pos + 1 :]}
                with pytest.raises(RecordingError):
                    read_recording(store, "s1", key.public_key())


def test_middle_change_names_the_segment(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    store.blobs[SEG2] = store.blobs[SEG2].replace(b"line 1", b"line X")
    with pytest.raises(RecordingTampered, match="segment 2 was altered"):
        read_recording(store, "s1", key.public_key())


def test_last_segment_change_is_caught_by_the_end(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    store.blobs[SEG3] = store.blobs[SEG3].replace(b"line 2", b"line X")
    with pytest.raises(RecordingTampered, match="segment 3 was altered"):
        read_recording(store, "s1", key.public_key())


def test_deleted_middle_segment(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    del store.blobs[SEG2]
    with pytest.raises(RecordingTampered, match="segment 2 is missing"):
        read_recording(store, "s1", key.public_key())


def test_deleted_last_segment_with_end(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    del store.blobs[SEG3]
    with pytest.raises(RecordingTampered, match="segment 3 is missing"):
        read_recording(store, "s1", key.public_key())


def test_deleted_end_reads_as_incomplete(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    del store.blobs[END]
    assert not read_recording(store, "s1", key.public_key()).complete


def test_extra_segment_after_end(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    meta = orjson.dumps({"segment": 4, "session": "s1", "prev": blob_hash(store.blobs[SEG3])})
    store.blobs["sessions/s1/seg-000004.jsonl"] = meta + b"\n"
    with pytest.raises(RecordingTampered, match="follows the signed end"):
        read_recording(store, "s1", key.public_key())


def test_segment_swapped_from_another_session(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    record(store, key, "s2")
    store.blobs[SEG2] = store.blobs["sessions/s2/seg-000002.jsonl"]
    with pytest.raises(RecordingTampered, match="another session"):
        read_recording(store, "s1", key.public_key())


def test_end_from_another_session(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    record(store, key, "s2")
    store.blobs[END] = store.blobs["sessions/s2/end.json"]
    with pytest.raises(RecordingTampered, match="another session"):
        read_recording(store, "s1", key.public_key())


def test_whole_recording_rewritten_with_another_key(store: MemoryBlobStore, key: Any) -> None:
    record(store, Ed25519PrivateKey.generate())
    with pytest.raises(RecordingTampered, match="another key"):
        read_recording(store, "s1", key.public_key())


def _resign(store: MemoryBlobStore, signer: Ed25519PrivateKey, changes: dict[str, Any]) -> None:
    end = {**orjson.loads(store.blobs[END]), **changes}
    end["signature"] = base64.b64encode(signer.sign(end_message(end))).decode()
    store.blobs[END] = orjson.dumps(end, option=orjson.OPT_SORT_KEYS) + b"\n"


def test_end_record_must_be_canonical(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    store.blobs[END] = store.blobs[END].replace(b":", b": ")
    with pytest.raises(RecordingTampered, match="canonical"):
        read_recording(store, "s1", key.public_key())


def test_forged_end_with_correct_key_id_but_wrong_signature(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    end = orjson.loads(store.blobs[END])
    end["reason"] = "forged"
    store.blobs[END] = orjson.dumps(end, option=orjson.OPT_SORT_KEYS) + b"\n"
    with pytest.raises(RecordingTampered, match="signature does not verify"):
        read_recording(store, "s1", key.public_key())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"segments": 10**12}, "segment count"),
        ({"segments": 0}, "segment count"),
        ({"segments": "3"}, "segment count"),
        ({"segments": True}, "segment count"),
        ({"head": "zz"}, "head"),
        ({"head": 5}, "head"),
        ({"key": None}, "key"),
        ({"session": ["s1"]}, "another session"),
    ],
)
def test_malformed_end_fields(
    store: MemoryBlobStore, key: Any, changes: dict[str, Any], message: str
) -> None:
    record(store, key)
    _resign(store, key, changes)
    with pytest.raises(RecordingTampered, match=message):
        read_recording(store, "s1", key.public_key())


@pytest.mark.parametrize("signature", [None, 5, "!!!", "", base64.b64encode(b"x" * 64).decode()])
def test_bad_signature_values(store: MemoryBlobStore, key: Any, signature: Any) -> None:
    record(store, key)
    end = orjson.loads(store.blobs[END])
    end["signature"] = signature
    store.blobs[END] = orjson.dumps(end)
    with pytest.raises(RecordingTampered):
        read_recording(store, "s1", key.public_key())


@pytest.mark.parametrize(
    "blob", [b"", b"[]", b"not json", b"{" * 100_000, b"x" * (65 * 1024), b'{"session": "s1"}']
)
def test_malformed_end_blobs(store: MemoryBlobStore, key: Any, blob: bytes) -> None:
    record(store, key)
    store.blobs[END] = blob
    with pytest.raises(RecordingTampered):
        read_recording(store, "s1", key.public_key())


def _segment(number: int, prev: str, *body: bytes, sid: str = "s1") -> bytes:
    meta = orjson.dumps({"segment": number, "session": sid, "prev": prev})
    return b"\n".join([meta, *body]) + b"\n"


HEADER_LINE = orjson.dumps({"version": 2, "width": 80, "height": 24})


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "o", "x"]')[:-1], "truncated"),
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "o", "x')[:-1] + b"\n", "not valid JSON"),
        (_segment(1, GENESIS), "no asciicast header"),
        (_segment(1, GENESIS, b'{"version": 1, "width": 80, "height": 24}'), "version 2"),
        (_segment(1, GENESIS, b'{"version": 2, "width": -1, "height": 24}'), "width"),
        (_segment(1, GENESIS, b'{"version": 2, "width": 80, "height": 10e9}'), "height"),
        (_segment(1, GENESIS, b"[2]"), "not a JSON object"),
        (_segment(1, "1" * 64, HEADER_LINE), "does not start the chain"),
        (_segment(2, GENESIS, HEADER_LINE), "numbered"),
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "o"]'), "event"),
        (_segment(1, GENESIS, HEADER_LINE, b'{"t": 0}'), "event"),
        (_segment(1, GENESIS, HEADER_LINE, b'[-1, "o", "x"]'), "time"),
        (_segment(1, GENESIS, HEADER_LINE, b'["0", "o", "x"]'), "time"),
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "O!", "x"]'), "code"),
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "o", 5]'), "data"),
        (_segment(1, GENESIS, HEADER_LINE, b'[0, "o", "' + b"x" * (1024 * 1024) + b'"]'), "longer than"),
        (_segment(1, GENESIS, HEADER_LINE, b'[1e999, "o", "x"]'), "JSON|time"),
        (_segment(1, GENESIS, HEADER_LINE, b"[" * 10_000), "JSON"),
        (_segment(1, GENESIS, HEADER_LINE, b""), "JSON"),
        (b"\n", "JSON"),
        (b'{"segment": 1, "session": "s1", "prev": "' + GENESIS.encode() + b'", "x": 1}\n', "malformed"),
        (
            b'{"segment": true, "session": "s1", "prev": "'
            + GENESIS.encode()
            + b'"}\n'
            + HEADER_LINE
            + b"\n",
            "numbered",
        ),
    ],
)
def test_malformed_segments(store: MemoryBlobStore, key: Any, blob: bytes, message: str) -> None:
    store.blobs[SEG1] = blob
    with pytest.raises(RecordingTampered, match=message):
        read_recording(store, "s1", key.public_key())


def test_handmade_valid_segment_reads(store: MemoryBlobStore, key: Any) -> None:
    store.blobs[SEG1] = _segment(1, GENESIS, HEADER_LINE, b'[0, "o", "x"]', b'[1, "zz", ""]')
    assert read_recording(store, "s1", None).events == [(0.0, "o", "x"), (1.0, "zz", "")]


def test_oversized_segment_is_refused(store: MemoryBlobStore, key: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("rampart.recording.reader.MAX_SEGMENT_BYTES", 100)
    store.blobs[SEG1] = _segment(1, GENESIS, HEADER_LINE, b'[0, "o", "' + b"x" * 200 + b'"]')
    with pytest.raises(RecordingTampered, match="larger than"):
        read_recording(store, "s1", None)


def test_too_many_segments_are_refused(store: MemoryBlobStore, monkeypatch: Any) -> None:
    monkeypatch.setattr("rampart.recording.reader.MAX_SEGMENTS", 3)
    for i in range(1, 5):
        store.blobs[f"sessions/s1/seg-{i:06d}.jsonl"] = b""
    with pytest.raises(RecordingTampered, match="more than 3"):
        read_recording(store, "s1", None)


def test_segment_gap_without_end(store: MemoryBlobStore, key: Any) -> None:
    record(store, key, close=False)
    store.blobs["sessions/s1/seg-000005.jsonl"] = store.blobs.pop(SEG3)
    with pytest.raises(RecordingTampered, match="segment 3 is missing"):
        read_recording(store, "s1", key.public_key())


def test_end_without_segments(store: MemoryBlobStore, key: Any) -> None:
    record(store, key)
    for k in (SEG1, SEG2, SEG3):
        del store.blobs[k]
    with pytest.raises(RecordingTampered, match="segment 1 is missing"):
        read_recording(store, "s1", key.public_key())


def test_bad_session_id_is_refused(store: MemoryBlobStore) -> None:
    with pytest.raises(RecordingError):
        read_recording(store, "../s1", None)
