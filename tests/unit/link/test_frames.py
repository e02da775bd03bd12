"""The frame codec, channel-open metadata and message framing: round trips and hostile input."""

from __future__ import annotations

import struct

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rampart.errors import LinkError, LinkProtocolError
from rampart.link.frames import (
    FLAG_FIN,
    HEADER,
    HEADER_SIZE,
    MAX_FRAME,
    MAX_OPEN,
    MAX_REASON,
    Frame,
    FrameType,
    OpenInfo,
    Priority,
    clip_reason,
    close_frame,
    credit_frame,
    credit_of,
    data_frame,
    decode_frame,
    decode_open,
    encode_frame,
    encode_open,
    make_open_info,
    ping_frame,
    pong_frame,
    reason_of,
    token_of,
)
from rampart.link.messages import check_limit, decode_message, encode_message, message_size

GOOD_FRAMES = [
    Frame(1, FrameType.OPEN, b'{"kind":"x","priority":"bulk","meta":{}}'),
    data_frame(7, b"hello"),
    data_frame(7, b"", fin=True),
    data_frame(2**32 - 1, b"x" * MAX_FRAME, fin=True),
    credit_frame(3, 65536),
    close_frame(3, "refused: not allowed"),
    close_frame(0, ""),
    ping_frame(42),
    pong_frame(ping_frame(2**64 - 1)),
]


@pytest.mark.parametrize("frame", GOOD_FRAMES, ids=lambda f: f.type.name)
def test_round_trip(frame: Frame) -> None:
    assert decode_frame(encode_frame(frame)) == frame


@given(
    channel=st.integers(1, 2**32 - 1),
    payload=st.binary(min_size=1, max_size=2048),
    fin=st.booleans(),
)
def test_data_round_trip_property(channel: int, payload: bytes, fin: bool) -> None:
    frame = data_frame(channel, payload, fin=fin)
    decoded = decode_frame(encode_frame(frame))
    assert decoded == frame
    assert decoded.fin is fin


@given(reason=st.text(max_size=600))
def test_close_reason_round_trip(reason: str) -> None:
    decoded = decode_frame(encode_frame(close_frame(5, reason)))
    assert reason_of(decoded) == clip_reason(reason, MAX_REASON)
    assert reason.startswith(reason_of(decoded))


def test_accessors() -> None:
    assert credit_of(credit_frame(1, 12345)) == 12345
    assert token_of(ping_frame(99)) == 99
    assert token_of(pong_frame(ping_frame(99))) == 99


@pytest.mark.parametrize("size", range(HEADER_SIZE))
def test_short_header_rejected(size: int) -> None:
    with pytest.raises(LinkProtocolError, match="short frame"):
        decode_frame(b"\x00" * size)


def test_oversize_payload_rejected() -> None:
    data = HEADER.pack(1, FrameType.DATA, 0) + b"x" * (MAX_FRAME + 1)
    with pytest.raises(LinkProtocolError, match="oversize"):
        decode_frame(data)


def test_huge_message_rejected_without_parsing() -> None:
    with pytest.raises(LinkProtocolError, match="oversize"):
        decode_frame(b"\xff" * (10 * 1024 * 1024))


@pytest.mark.parametrize("raw_type", [0, 7, 8, 99, 255])
def test_unknown_type_rejected(raw_type: int) -> None:
    with pytest.raises(LinkProtocolError, match=f"unknown frame type {raw_type}"):
        decode_frame(HEADER.pack(1, raw_type, 0) + b"x")


BAD_FRAMES = {
    "data on channel 0": HEADER.pack(0, FrameType.DATA, 0) + b"x",
    "data with unknown flag": HEADER.pack(1, FrameType.DATA, 0x02) + b"x",
    "empty data without fin": HEADER.pack(1, FrameType.DATA, 0),
    "open on channel 0": HEADER.pack(0, FrameType.OPEN, 0) + b"{}",
    "open without metadata": HEADER.pack(1, FrameType.OPEN, 0),
    "open too large": HEADER.pack(1, FrameType.OPEN, 0) + b" " * (MAX_OPEN + 1),
    "open with flags": HEADER.pack(1, FrameType.OPEN, FLAG_FIN) + b"{}",
    "credit on channel 0": HEADER.pack(0, FrameType.CREDIT, 0) + struct.pack(">I", 5),
    "credit short": HEADER.pack(1, FrameType.CREDIT, 0) + b"\x00\x01",
    "credit long": HEADER.pack(1, FrameType.CREDIT, 0) + b"\x00" * 8,
    "credit zero": HEADER.pack(1, FrameType.CREDIT, 0) + b"\x00" * 4,
    "credit with flags": HEADER.pack(1, FrameType.CREDIT, 1) + struct.pack(">I", 5),
    "close not utf-8": HEADER.pack(1, FrameType.CLOSE, 0) + b"\xff\xfe",
    "close reason too long": HEADER.pack(1, FrameType.CLOSE, 0) + b"r" * (MAX_REASON + 1),
    "close with flags": HEADER.pack(1, FrameType.CLOSE, 1),
    "ping on a channel": HEADER.pack(3, FrameType.PING, 0) + b"\x00" * 8,
    "ping short": HEADER.pack(0, FrameType.PING, 0) + b"\x00" * 7,
    "pong long": HEADER.pack(0, FrameType.PONG, 0) + b"\x00" * 9,
    "pong with flags": HEADER.pack(0, FrameType.PONG, 1) + b"\x00" * 8,
}


@pytest.mark.parametrize("data", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_malformed_frames_rejected(data: bytes) -> None:
    with pytest.raises(LinkProtocolError):
        decode_frame(data)


@given(st.binary(max_size=300))
def test_garbage_decodes_or_is_refused(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except LinkProtocolError:
        return
    assert encode_frame(frame) == data


def test_clip_reason_keeps_characters_whole() -> None:
    assert clip_reason("ééé", 3) == "é"
    assert clip_reason("abc", 10) == "abc"


# -- channel-open metadata ----------------------------------------------------------------


def test_open_round_trip() -> None:
    info = make_open_info("shell", "interactive", {"user": "ops", "cols": 80, "tags": {"a": [1, 2]}})
    assert decode_open(encode_open(info)) == info
    assert info.priority is Priority.INTERACTIVE


@pytest.mark.parametrize(
    ("kind", "priority", "meta"),
    [
        ("", "control", {}),
        ("-starts-with-dash", "control", {}),
        ("x" * 65, "control", {}),
        ("has space", "control", {}),
        ("ok", "urgent", {}),
        ("ok", 3, {}),
    ],
)
def test_make_open_info_rejects_bad_values(kind: str, priority: str, meta: dict[str, object]) -> None:
    with pytest.raises(LinkError):
        make_open_info(kind, priority, meta)


def test_encode_open_rejects_non_json_and_oversize() -> None:
    with pytest.raises(LinkError, match="not JSON"):
        encode_open(OpenInfo("x", Priority.BULK, {"v": object()}))
    with pytest.raises(LinkError, match="limit"):
        encode_open(OpenInfo("x", Priority.BULK, {"v": "a" * MAX_OPEN}))


BAD_OPENS = {
    "not json": b"{nope",
    "not an object": b"[1,2]",
    "missing meta": b'{"kind":"x","priority":"bulk"}',
    "extra key": b'{"kind":"x","priority":"bulk","meta":{},"window":5}',
    "meta not object": b'{"kind":"x","priority":"bulk","meta":[]}',
    "kind not string": b'{"kind":5,"priority":"bulk","meta":{}}',
    "priority not string": b'{"kind":"x","priority":["bulk"],"meta":{}}',
    "unknown priority": b'{"kind":"x","priority":"urgent","meta":{}}',
    "control characters in kind": b'{"kind":"a\\u001b[2J","priority":"bulk","meta":{}}',
    "deeply nested": b'{"kind":"x","priority":"bulk","meta":' + b'{"a":' * 2000 + b"1" + b"}" * 2001,
    "invalid utf-8": b'{"kind":"\xff","priority":"bulk","meta":{}}',
}


@pytest.mark.parametrize("payload", BAD_OPENS.values(), ids=BAD_OPENS.keys())
def test_decode_open_rejects_malformed(payload: bytes) -> None:
    with pytest.raises(LinkProtocolError):
        decode_open(payload)


@given(st.binary(max_size=200))
def test_decode_open_garbage(payload: bytes) -> None:
    try:
        info = decode_open(payload)
    except LinkProtocolError:
        return
    assert isinstance(info.meta, dict)


# -- messages -----------------------------------------------------------------------------


def test_message_round_trip() -> None:
    header, body = encode_message({"a": [1, "two", None]}, 100)
    assert message_size(header, 100) == len(body)
    assert decode_message(body) == {"a": [1, "two", None]}


def test_message_limits() -> None:
    with pytest.raises(LinkProtocolError, match="exceeds the limit"):
        encode_message("x" * 100, 10)
    with pytest.raises(LinkProtocolError, match="exceeds the limit"):
        message_size(struct.pack(">I", 2**32 - 1), 1024)
    with pytest.raises(LinkProtocolError, match="header"):
        message_size(b"\x00\x01", 1024)
    with pytest.raises(LinkError):
        check_limit(0)
    with pytest.raises(LinkError, match="not JSON"):
        encode_message({1, 2}, 100)


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"NaN", b"[1,]"])
def test_malformed_message_body(body: bytes) -> None:
    with pytest.raises(LinkProtocolError, match="not valid JSON"):
        decode_message(body)


def test_orjson_depth_limit_is_a_protocol_error() -> None:
    body = b"[" * 5000 + b"]" * 5000
    with pytest.raises(LinkProtocolError):
        decode_message(body)
    assert orjson.loads(b"[" * 10 + b"]" * 10)
