"""Writing one session's recording: asciicast v2 events buffered in memory, flushed as hash-chained segments.

`event` and `output` only append to a queue (cheap, safe to call from an event loop); `flush` and `close`
do the store I/O (call them from a worker thread). A failed write raises `RecordingStoreError` and keeps
the data queued for the next attempt; segment numbers and the chain head advance only on success.
"""

from __future__ import annotations

import base64
import codecs
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import RecordingError
from rampart.recording.blobstore import BlobStore
from rampart.recording.layout import (
    EVENT_CODES,
    GENESIS,
    TEXT_CODES,
    blob_hash,
    check_session_id,
    end_key,
    end_message,
    segment_key,
)
from rampart.recording.signing import key_id

_MAX_PIECE_CHARS = 128 * 1024  # one event line stays far below the reader's 1 MiB line limit
_MAX_PIECE_BYTES = 96 * 1024  # raw bytes per base64 event
_RESERVED_END = frozenset({"session", "segments", "head", "key", "signature"})


class RecordingWriter:
    """Append-only recorder of one session into `store` under ``sessions/<session_id>/``."""

    def __init__(
        self,
        store: BlobStore,
        session_id: str,
        header: Mapping[str, Any],
        signer: Ed25519PrivateKey,
        *,
        clock: Callable[[], float] = time.monotonic,
        segment_bytes: int = 256 * 1024,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if segment_bytes < 1:
            raise RecordingError("recording segment size must be positive")
        self._store, self._sid, self._signer = store, check_session_id(session_id), signer
        self._clock, self._wall_clock, self._start = clock, wall_clock, clock()
        self._segment_bytes = segment_bytes
        self._header_line = _json_line(asciicast_header(self._sid, header, wall_clock()))
        self._lock = threading.Lock()  # the queue and the closed flag
        self._io_lock = threading.RLock()  # one flush or close at a time
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._closed = False
        self._count, self._head = 0, GENESIS
        self._decoders = _Decoders(self.event)

    @property
    def session_id(self) -> str:
        return self._sid

    @property
    def segments(self) -> int:
        """How many segments have been stored so far."""
        return self._count

    @property
    def head(self) -> str:
        """The sha256 of the last stored segment (64 zeros before the first)."""
        return self._head

    def event(self, code: str, data: str) -> None:
        """Queue one asciicast event; after `close` has begun, events are ignored."""
        if code not in EVENT_CODES:
            raise RecordingError(f"unknown recording event code {code[:8]!r}")
        t = round(max(0.0, self._clock() - self._start), 6)
        lines = [_event_line(t, code, piece) for piece in _pieces(data)]
        with self._lock:
            if self._closed:
                return
            self._pending.extend(lines)
            self._pending_bytes += sum(map(len, lines))

    def output(self, code: str, data: bytes, *, lossless: bool = False) -> None:
        """Queue bytes of stream `code` ("o", "e" or "i"), decoding UTF-8 across chunk boundaries.

        With `lossless` (exec), bytes that are not valid UTF-8 become a base64 event ("ob", "eb", "ib")
        so the recorded stream is byte-exact; otherwise they become U+FFFD.
        """
        if code not in TEXT_CODES:
            raise RecordingError(f"recording stream code must be one of o, e, i, not {code[:8]!r}")
        self._decoders.feed(code, bytes(data), lossless)

    def flush_due(self) -> bool:
        """True when enough is queued that a segment should be written."""
        with self._lock:
            return self._pending_bytes >= self._segment_bytes

    def flush(self) -> None:
        """Write everything queued as the next segment(s); the first flush always writes segment 1."""
        with self._io_lock:
            with self._lock:
                lines, self._pending, self._pending_bytes = self._pending, [], 0
            groups = _group(lines, self._segment_bytes)
            if not groups and self._count == 0:
                groups = [[]]
            for index, group in enumerate(groups):
                try:
                    self._write_segment(group)
                except Exception:
                    self._requeue([line for rest in groups[index:] for line in rest])
                    raise

    def close(self, end: Mapping[str, Any]) -> None:
        """Flush, then store the signed end record built from `end` (reason, exit code, byte counts...)."""
        clash = _RESERVED_END & set(end)
        if clash:
            raise RecordingError(f"recording end fields may not set {', '.join(sorted(clash))}")
        with self._io_lock:
            self._decoders.finish()
            with self._lock:
                self._closed = True
            self.flush()
            record = self._end_record(end)
            self._store.put(end_key(self._sid), orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n")

    def _write_segment(self, lines: list[bytes]) -> None:
        number = self._count + 1
        meta = _json_line({"segment": number, "session": self._sid, "prev": self._head})
        blob = b"".join([meta, self._header_line if number == 1 else b"", *lines])
        self._store.put(segment_key(self._sid, number), blob)
        self._count, self._head = number, blob_hash(blob)

    def _requeue(self, lines: list[bytes]) -> None:
        with self._lock:
            self._pending[:0] = lines
            self._pending_bytes += sum(map(len, lines))

    def _end_record(self, end: Mapping[str, Any]) -> dict[str, Any]:
        ended = datetime.fromtimestamp(self._wall_clock(), UTC).isoformat().replace("+00:00", "Z")
        record: dict[str, Any] = {"ended_at": ended, **end}
        record.update(session=self._sid, segments=self._count, head=self._head)
        record["key"] = key_id(self._signer.public_key())
        try:
            message = end_message(record)
        except orjson.JSONEncodeError as exc:
            raise RecordingError(f"recording end fields are not JSON: {exc}") from None
        record["signature"] = base64.b64encode(self._signer.sign(message)).decode("ascii")
        return record


class _Decoders:
    """Per-stream incremental UTF-8 decoders feeding an event sink."""

    def __init__(self, sink: Callable[[str, str], None]) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._lossy: dict[str, codecs.IncrementalDecoder] = {}
        self._strict: dict[str, codecs.IncrementalDecoder] = {}

    def feed(self, code: str, data: bytes, lossless: bool) -> None:
        with self._lock:
            if lossless:
                self._feed_strict(code, data, final=False)
            else:
                self._emit(code, self._lossy_for(code).decode(data))

    def finish(self) -> None:
        with self._lock:
            for code, decoder in self._lossy.items():
                self._emit(code, decoder.decode(b"", final=True))
            for code in list(self._strict):
                self._feed_strict(code, b"", final=True)

    def _lossy_for(self, code: str) -> codecs.IncrementalDecoder:
        return self._lossy.setdefault(code, codecs.getincrementaldecoder("utf-8")(errors="replace"))

    def _feed_strict(self, code: str, data: bytes, *, final: bool) -> None:
        decoder = self._strict.setdefault(code, codecs.getincrementaldecoder("utf-8")(errors="strict"))
        held = decoder.getstate()[0]
        try:
            self._emit(code, decoder.decode(data, final=final))
        except UnicodeDecodeError:
            decoder.reset()
            raw = held + data
            for start in range(0, len(raw), _MAX_PIECE_BYTES):
                piece = raw[start : start + _MAX_PIECE_BYTES]
                self._sink(code + "b", base64.b64encode(piece).decode("ascii"))

    def _emit(self, code: str, text: str) -> None:
        if text:
            self._sink(code, text)


def asciicast_header(sid: str, header: Mapping[str, Any], timestamp: float) -> dict[str, Any]:
    """The asciicast v2 header for a session; every given field is kept under "rampart"."""
    login, host = header.get("login"), header.get("hostname") or header.get("host")
    title = header.get("title") or (f"{login}@{host}" if login and host else f"session {sid}")
    return {
        "version": 2,
        "width": _dimension(header.get("cols", header.get("width")), 80),
        "height": _dimension(header.get("rows", header.get("height")), 24),
        "timestamp": int(timestamp),
        "env": {"TERM": str(header.get("term") or "xterm-256color")},
        "title": str(title),
        "rampart": {**header, "session": sid},
    }


def _dimension(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10000 else default


def _json_line(obj: object) -> bytes:
    try:
        return orjson.dumps(obj) + b"\n"
    except orjson.JSONEncodeError as exc:
        raise RecordingError(f"recording header is not JSON: {exc}") from None


def _event_line(t: float, code: str, data: str) -> bytes:
    try:
        return orjson.dumps([t, code, data]) + b"\n"
    except orjson.JSONEncodeError:  # lone surrogates
        clean = data.encode("utf-8", "replace").decode("utf-8")
        return orjson.dumps([t, code, clean]) + b"\n"


def _pieces(data: str) -> list[str]:
    if len(data) <= _MAX_PIECE_CHARS:
        return [data]
    return [data[i : i + _MAX_PIECE_CHARS] for i in range(0, len(data), _MAX_PIECE_CHARS)]


def _group(lines: list[bytes], limit: int) -> list[list[bytes]]:
    groups: list[list[bytes]] = []
    size = limit
    for line in lines:
        if size + len(line) > limit and (not groups or groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(line)
        size += len(line)
    return groups
