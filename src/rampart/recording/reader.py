"""Reading and verifying a stored recording.

Every segment must name its session and number (contiguous from 1) and carry the sha256 of the previous
segment blob; the signed end record must match the last segment's hash and the segment count, and its
Ed25519 signature must verify. Any break raises `RecordingTampered` naming the first bad place. A recording
without an end record (session still running, or the server stopped) is returned with ``complete=False``.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rampart.errors import RecordingNotFound, RecordingTampered
from rampart.recording.blobstore import BlobStore
from rampart.recording.layout import (
    END_NAME,
    GENESIS,
    blob_hash,
    end_key,
    end_message,
    segment_key,
    segment_number,
    session_prefix,
)
from rampart.recording.signing import key_id

MAX_LINE_BYTES = 1024 * 1024
MAX_SEGMENT_BYTES = 64 * 1024 * 1024
MAX_END_BYTES = 64 * 1024
MAX_SEGMENTS = 100_000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CODE = re.compile(r"[a-z]{1,4}")

Event = tuple[float, str, str]


@dataclass(frozen=True)
class Recording:
    """A verified recording. `complete`: a valid signed end is present; `verified`: its signature was checked."""

    session: str
    header: dict[str, Any]
    events: list[Event]
    end: dict[str, Any] | None
    complete: bool
    segments: int
    verified: bool = False
    head: str = GENESIS

    @property
    def duration(self) -> float:
        """Seconds from the start to the last event."""
        return self.events[-1][0] if self.events else 0.0


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify_recording` (which raises on tampering, so this is always a good chain)."""

    session: str
    segments: int
    events: int
    duration: float
    complete: bool
    verified: bool
    key: str | None

    def __str__(self) -> str:
        state = "complete" if self.complete else "incomplete (no end record yet)"
        sig = f", signed by key {self.key[:16]}" if self.verified and self.key else ""
        return (
            f"session {self.session}: {self.segments} segments, {self.events} events, "
            f"{self.duration:.1f}s, chain intact, {state}{sig}"
        )


def read_recording(store: BlobStore, sid: str, public_key: Ed25519PublicKey | None) -> Recording:
    """Read, verify and decode session `sid`'s recording (signature checked when `public_key` is given)."""
    count, has_end = _inventory(store, sid)
    if count == 0 and not has_end:
        raise RecordingNotFound(f"no recording for session {sid}")
    end = _read_end(store, sid) if has_end else None
    if end is not None:
        _check_count(end, count)
    header, events, head = _read_segments(store, sid, count)
    verified = end is not None and _check_end(end, head, public_key)
    return Recording(sid, header, events, end, end is not None, count, verified, head)


def verify_recording(store: BlobStore, sid: str, public_key: Ed25519PublicKey | None) -> VerifyReport:
    """Verify session `sid`'s recording; raises `RecordingTampered` on any break, else a short report."""
    rec = read_recording(store, sid, public_key)
    key = str(rec.end.get("key")) if rec.end else None
    return VerifyReport(sid, rec.segments, len(rec.events), rec.duration, rec.complete, rec.verified, key)


def _read_segments(store: BlobStore, sid: str, count: int) -> tuple[dict[str, Any], list[Event], str]:
    header: dict[str, Any] = {}
    events: list[Event] = []
    head = GENESIS
    for number in range(1, count + 1):
        blob = _get_bounded(store, segment_key(sid, number), MAX_SEGMENT_BYTES, f"segment {number}")
        seg_header = _parse_segment(blob, sid, number, head, events)
        header = seg_header if number == 1 else header
        head = blob_hash(blob)
    return header, events, head


def _inventory(store: BlobStore, sid: str) -> tuple[int, bool]:
    prefix = session_prefix(sid)
    numbers: list[int] = []
    has_end = False
    for key in store.list(prefix):
        name = key[len(prefix) :]
        number = segment_number(name)
        if number is not None:
            numbers.append(number)
        has_end = has_end or name == END_NAME
    if len(numbers) > MAX_SEGMENTS:
        raise RecordingTampered(f"recording {sid} has {len(numbers)} segments, more than {MAX_SEGMENTS}")
    numbers.sort()
    for expected, number in enumerate(numbers, start=1):
        if number != expected:
            raise RecordingTampered(f"recording {sid}: segment {expected} is missing")
    return len(numbers), has_end


def _get_bounded(store: BlobStore, key: str, limit: int, what: str) -> bytes:
    try:
        blob = store.get(key)
    except RecordingNotFound:
        raise RecordingTampered(f"{what} is missing") from None
    if len(blob) > limit:
        raise RecordingTampered(f"{what} is larger than {limit} bytes")
    return blob


def _parse_segment(blob: bytes, sid: str, number: int, prev: str, events: list[Event]) -> dict[str, Any]:
    where = f"segment {number}"
    if not blob.endswith(b"\n"):
        raise RecordingTampered(f"{where} is truncated (no final newline)")
    lines = blob[:-1].split(b"\n")
    meta = _json_object(lines[0], f"{where} line 1")
    _check_meta(meta, sid, number, prev)
    header: dict[str, Any] = {}
    body = lines[1:]
    if number == 1:
        if not body:
            raise RecordingTampered(f"{where} has no asciicast header")
        header = _check_header(_json_object(body[0], f"{where} line 2"))
        body = body[1:]
    first_line = 3 if number == 1 else 2
    events.extend(_event(line, f"{where} line {first_line + i}") for i, line in enumerate(body))
    return header


def _loads(line: bytes, where: str) -> Any:
    if len(line) > MAX_LINE_BYTES:
        raise RecordingTampered(f"{where} is longer than {MAX_LINE_BYTES} bytes")
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        raise RecordingTampered(f"{where} is not valid JSON") from None


def _json_object(line: bytes, where: str) -> dict[str, Any]:
    value = _loads(line, where)
    if not isinstance(value, dict):
        raise RecordingTampered(f"{where} is not a JSON object")
    return value


def _check_meta(meta: dict[str, Any], sid: str, number: int, prev: str) -> None:
    where = f"segment {number}"
    if set(meta) != {"segment", "session", "prev"}:
        raise RecordingTampered(f"{where} has a malformed segment line")
    if meta["session"] != sid:
        raise RecordingTampered(f"{where} belongs to another session ({str(meta['session'])[:80]!r})")
    if meta["segment"] != number or type(meta["segment"]) is not int:
        raise RecordingTampered(f"{where} is numbered {str(meta['segment'])[:20]!r}")
    if meta["prev"] != prev:
        what = "segment 1 does not start the chain" if number == 1 else f"segment {number - 1} was altered"
        raise RecordingTampered(f"{where}: previous-segment hash mismatch ({what})")


def _check_header(header: dict[str, Any]) -> dict[str, Any]:
    if header.get("version") != 2:
        raise RecordingTampered("segment 1: the asciicast header is not version 2")
    for name in ("width", "height"):
        value = header.get(name)
        if type(value) is not int or not 0 < value <= 10000:
            raise RecordingTampered(f"segment 1: the asciicast header's {name} is not a sane integer")
    return header


def _event(line: bytes, where: str) -> Event:
    value = _loads(line, where)
    if not isinstance(value, list) or len(value) != 3:
        raise RecordingTampered(f"{where} is not a [time, code, data] event")
    t, code, data = value
    if type(t) not in (int, float) or not math.isfinite(t) or t < 0:
        raise RecordingTampered(f"{where} has a bad event time")
    if not isinstance(code, str) or not _CODE.fullmatch(code) or not isinstance(data, str):
        raise RecordingTampered(f"{where} has a bad event code or data")
    return float(t), code, data


def _read_end(store: BlobStore, sid: str) -> dict[str, Any]:
    blob = _get_bounded(store, end_key(sid), MAX_END_BYTES, "the end record")
    end = _json_object(blob, "the end record")
    if end.get("session") != sid:
        raise RecordingTampered("the end record belongs to another session")
    segments = end.get("segments")
    if type(segments) is not int or not 0 < segments <= MAX_SEGMENTS:
        raise RecordingTampered("the end record's segment count is not sane")
    for name in ("head", "key"):
        if not isinstance(end.get(name), str) or not _HEX64.fullmatch(end[name]):
            raise RecordingTampered(f"the end record's {name} is not a sha256 hex digest")
    if not isinstance(end.get("signature"), str):
        raise RecordingTampered("the end record has no signature")
    if blob != orjson.dumps(end, option=orjson.OPT_SORT_KEYS) + b"\n":
        raise RecordingTampered("the end record is not in canonical form")
    return end


def _check_count(end: dict[str, Any], count: int) -> None:
    if end["segments"] > count:
        raise RecordingTampered(f"segment {count + 1} is missing (the end record counts {end['segments']})")
    if end["segments"] < count:
        raise RecordingTampered(f"segment {end['segments'] + 1} follows the signed end record")


def _check_end(end: dict[str, Any], head: str, public_key: Ed25519PublicKey | None) -> bool:
    if end["head"] != head:
        raise RecordingTampered(f"segment {end['segments']} was altered (the end record's head differs)")
    if public_key is None:
        return False
    if end["key"] != key_id(public_key):
        raise RecordingTampered("the end record is signed by another key")
    try:
        signature = base64.b64decode(end["signature"], validate=True)
        public_key.verify(signature, end_message(end))
    except (binascii.Error, ValueError, InvalidSignature):
        raise RecordingTampered("the end record's signature does not verify") from None
    return True
