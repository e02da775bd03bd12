"""The session record format shared by the client, the server and the agent.

A record is a 6-byte header — type (u8), stream (u8), payload length (u32, big endian) — then the
payload. DATA carries bytes of one stream, ACK the total bytes received so far on a stream (u64),
HELLO (stream 0) the JSON ``{"received": {stream: total}}`` a side sends when it (re)attaches. On a
WebSocket each binary message is one record; on a link channel records follow each other.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from rampart.errors import SessionProtocolError

HEADER = struct.Struct(">BBI")
HEADER_SIZE = HEADER.size
MAX_PAYLOAD = 64 * 1024
_OFFSET = struct.Struct(">Q")
MAX_OFFSET = 2**63 - 1


class RecordType(IntEnum):
    DATA = 1
    ACK = 2
    HELLO = 3


class Stream(IntEnum):
    """The byte streams of a session: direction and meaning."""

    STDIN = 0  # client -> agent
    STDOUT = 1  # agent -> client (a shell's terminal output)
    STDERR = 2  # agent -> client
    CTL_IN = 3  # JSON events toward the agent
    CTL_OUT = 4  # JSON events from the agent or the server


TOWARD_AGENT = (Stream.STDIN, Stream.CTL_IN)
FROM_AGENT = (Stream.STDOUT, Stream.STDERR, Stream.CTL_OUT)


@dataclass(frozen=True, slots=True)
class Record:
    type: RecordType
    stream: Stream
    payload: bytes = b""


def encode(kind: RecordType, stream: int, payload: bytes = b"") -> bytes:
    """One record's bytes; payloads above MAX_PAYLOAD are refused."""
    if len(payload) > MAX_PAYLOAD:
        raise SessionProtocolError(f"record payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(kind, stream, len(payload)) + payload


def data(stream: int, payload: bytes) -> bytes:
    return encode(RecordType.DATA, stream, payload)


def ack(stream: int, total: int) -> bytes:
    return encode(RecordType.ACK, stream, _OFFSET.pack(total))


def hello(received: Mapping[Stream, int] | Mapping[int, int]) -> bytes:
    body = {"received": {str(int(stream)): total for stream, total in received.items()}}
    return encode(RecordType.HELLO, 0, orjson.dumps(body))


def event(payload: dict[str, Any]) -> bytes:
    """A JSON event, as the payload of one DATA record on a control stream."""
    return orjson.dumps(payload)


def decode(message: bytes) -> Record:
    """Exactly one record (a WebSocket message); anything else is SessionProtocolError."""
    record, used = _decode_at(message, 0)
    if record is None or used != len(message):
        raise SessionProtocolError("a message must hold exactly one complete record")
    return record


def _decode_at(buffer: bytes | bytearray, start: int) -> tuple[Record | None, int]:
    if len(buffer) - start < HEADER_SIZE:
        return None, start
    kind, stream, size = HEADER.unpack_from(buffer, start)
    if size > MAX_PAYLOAD:
        raise SessionProtocolError(f"record of {size} bytes exceeds {MAX_PAYLOAD}")
    end = start + HEADER_SIZE + size
    if len(buffer) < end:
        return None, start
    record = _checked(kind, stream, bytes(buffer[start + HEADER_SIZE : end]))
    return record, end


def _checked(kind: int, stream: int, payload: bytes) -> Record:
    try:
        record = Record(RecordType(kind), Stream(stream), payload)
    except ValueError:
        raise SessionProtocolError(f"unknown record type {kind} or stream {stream}") from None
    if record.type is RecordType.ACK and len(payload) != _OFFSET.size:
        raise SessionProtocolError("an ACK record carries exactly 8 bytes")
    if record.type is RecordType.HELLO and stream != 0:
        raise SessionProtocolError("a HELLO record belongs to stream 0")
    return record


def ack_offset(record: Record) -> int:
    (total,) = _OFFSET.unpack(record.payload)
    if total > MAX_OFFSET:
        raise SessionProtocolError("acknowledged offset out of range")
    return int(total)


def hello_received(record: Record) -> dict[Stream, int]:
    """The per-stream totals of a HELLO record, validated."""
    try:
        body = orjson.loads(record.payload)
        items = body["received"].items()
        received = {Stream(int(key)): value for key, value in items}
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
        raise SessionProtocolError("malformed HELLO record") from None
    if not all(type(value) is int and 0 <= value <= MAX_OFFSET for value in received.values()):
        raise SessionProtocolError("HELLO offsets must be non-negative integers")
    return received


def parse_event(payload: bytes) -> dict[str, Any]:
    """A control-stream event: one JSON object with a string "type"."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise SessionProtocolError("a control event is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise SessionProtocolError("a control event must be an object with a string 'type'")
    return value


class RecordReader:
    """Splits a byte stream (a link channel) into records; strict, bounded buffering."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[Record]:
        """The records completed by ``chunk``; an incomplete tail waits for more bytes."""
        self._buffer += chunk
        records: list[Record] = []
        start = 0
        while True:
            record, start = _decode_at(self._buffer, start)
            if record is None:
                break
            records.append(record)
        del self._buffer[:start]
        return records
