"""The session record codec: round trips and hostile input."""

from __future__ import annotations

import struct

import pytest

from rampart.errors import SessionProtocolError
from rampart.session import records
from rampart.session.records import RecordReader, RecordType, Stream


def test_data_ack_hello_round_trip() -> None:
    data = records.decode(records.data(Stream.STDOUT, b"\x00\xffhello"))
    assert (data.type, data.stream, data.payload) == (RecordType.DATA, Stream.STDOUT, b"\x00\xffhello")
    assert records.ack_offset(records.decode(records.ack(Stream.STDIN, 2**40))) == 2**40
    hello = records.decode(records.hello({Stream.STDOUT: 5, Stream.CTL_OUT: 7}))
    assert records.hello_received(hello) == {Stream.STDOUT: 5, Stream.CTL_OUT: 7}


def test_reader_splits_a_byte_stream_at_any_boundary() -> None:
    stream = b"".join(records.data(Stream.STDIN, bytes([n]) * n) for n in range(1, 40))
    for step in (1, 3, 7, 64, len(stream)):
        reader, got = RecordReader(), []
        for start in range(0, len(stream), step):
            got += reader.feed(stream[start : start + step])
        assert [r.payload for r in got] == [bytes([n]) * n for n in range(1, 40)]
        assert reader.pending == 0


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x01\x01",  # truncated header
        struct.pack(">BBI", 1, 1, 10) + b"short",  # truncated payload
        struct.pack(">BBI", 9, 1, 0),  # unknown type
        struct.pack(">BBI", 1, 42, 0),  # unknown stream
        struct.pack(">BBI", 2, 1, 3) + b"abc",  # ACK of the wrong size
        struct.pack(">BBI", 3, 1, 2) + b"{}",  # HELLO off stream 0
        records.data(1, b"x") + b"trailing",
    ],
)
def test_malformed_messages_are_refused(message: bytes) -> None:
    with pytest.raises(SessionProtocolError):
        records.decode(message)


def test_huge_length_is_refused_before_buffering() -> None:
    reader = RecordReader()
    with pytest.raises(SessionProtocolError, match="exceeds"):
        reader.feed(struct.pack(">BBI", 1, 1, 2**31))
    with pytest.raises(SessionProtocolError):
        records.encode(RecordType.DATA, 1, b"x" * (records.MAX_PAYLOAD + 1))


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"received": 3}',
        b'{"received": {"1": -1}}',
        b'{"received": {"9": 1}}',
        b'{"received": {"1": 1.5}}',
        b'{"received": {"1": true}}',
        b'{"received": {"x": 1}}',
    ],
)
def test_malformed_hello_is_refused(payload: bytes) -> None:
    record = records.Record(RecordType.HELLO, Stream.STDIN, payload)
    with pytest.raises(SessionProtocolError):
        records.hello_received(record)


@pytest.mark.parametrize("payload", [b"", b"[1]", b'{"kind": "x"}', b'{"type": 3}', b"\xff"])
def test_malformed_events_are_refused(payload: bytes) -> None:
    with pytest.raises(SessionProtocolError):
        records.parse_event(payload)
    assert records.parse_event(b'{"type": "resize", "cols": 80}')["cols"] == 80
