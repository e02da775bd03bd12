"""The link's wire format: one frame per transport message, strict decoding, channel-open metadata.

A frame is a 6-byte header — channel id (u32, big endian), type (u8), flags (u8) — then the payload
(at most :data:`MAX_FRAME` bytes). Channel 0 is the link itself (PING, PONG, and CLOSE for the whole
link); every other channel carries OPEN, DATA, CREDIT and CLOSE. Anything else is a
:class:`~rampart.errors.LinkProtocolError`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import orjson

from rampart.errors import LinkError, LinkProtocolError

HEADER = struct.Struct(">IBB")
HEADER_SIZE = HEADER.size
MAX_FRAME = 64 * 1024
MAX_CHANNEL_ID = 2**32 - 1
MAX_CREDIT = 2**32 - 1
MAX_OPEN = 16 * 1024
MAX_REASON = 512
TOKEN_SIZE = 8
FLAG_FIN = 0x01

_CREDIT = struct.Struct(">I")
_TOKEN = struct.Struct(">Q")
_KIND = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")
_OPEN_KEYS = frozenset({"kind", "priority", "meta"})


class FrameType(IntEnum):
    OPEN = 1
    DATA = 2
    CREDIT = 3
    CLOSE = 4
    PING = 5
    PONG = 6


class Priority(StrEnum):
    """Writer scheduling class of a channel, highest first."""

    INTERACTIVE = "interactive"
    CONTROL = "control"
    BULK = "bulk"


PRIORITY_ORDER: tuple[Priority, ...] = (Priority.INTERACTIVE, Priority.CONTROL, Priority.BULK)
_PRIORITIES = frozenset(p.value for p in Priority)


@dataclass(frozen=True, slots=True)
class Frame:
    channel: int
    type: FrameType
    payload: bytes = b""
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass(frozen=True, slots=True)
class OpenInfo:
    """What a channel is for: its kind, its scheduling priority and free-form JSON metadata."""

    kind: str
    priority: Priority
    meta: dict[str, Any] = field(default_factory=dict)


def encode_frame(frame: Frame) -> bytes:
    return HEADER.pack(frame.channel, frame.type, frame.flags) + frame.payload


def decode_frame(data: bytes) -> Frame:
    """Parse one transport message into a frame, rejecting anything the protocol does not allow."""
    if len(data) < HEADER_SIZE:
        raise LinkProtocolError(f"short frame: {len(data)} bytes, header needs {HEADER_SIZE}")
    if len(data) - HEADER_SIZE > MAX_FRAME:
        raise LinkProtocolError(f"oversize frame: {len(data) - HEADER_SIZE} byte payload, limit {MAX_FRAME}")
    channel, raw_type, flags = HEADER.unpack_from(data)
    try:
        frame_type = FrameType(raw_type)
    except ValueError:
        raise LinkProtocolError(f"unknown frame type {raw_type}") from None
    frame = Frame(channel, frame_type, bytes(data[HEADER_SIZE:]), flags)
    _CHECKS[frame_type](frame)
    return frame


def _require(ok: bool, frame: Frame, what: str) -> None:
    if not ok:
        raise LinkProtocolError(f"bad {frame.type.name} frame on channel {frame.channel}: {what}")


def _check_open(frame: Frame) -> None:
    _require(frame.channel != 0, frame, "channel 0 is reserved")
    _require(frame.flags == 0, frame, f"unknown flags {frame.flags:#x}")
    _require(0 < len(frame.payload) <= MAX_OPEN, frame, f"metadata must be 1..{MAX_OPEN} bytes")


def _check_data(frame: Frame) -> None:
    _require(frame.channel != 0, frame, "channel 0 is reserved")
    _require(frame.flags & ~FLAG_FIN == 0, frame, f"unknown flags {frame.flags:#x}")
    _require(bool(frame.payload) or frame.fin, frame, "empty payload without end of stream")


def _check_credit(frame: Frame) -> None:
    _require(frame.channel != 0, frame, "channel 0 is reserved")
    _require(frame.flags == 0, frame, f"unknown flags {frame.flags:#x}")
    _require(len(frame.payload) == _CREDIT.size, frame, f"payload must be {_CREDIT.size} bytes")
    _require(credit_of(frame) > 0, frame, "zero credit")


def _check_close(frame: Frame) -> None:
    _require(frame.flags == 0, frame, f"unknown flags {frame.flags:#x}")
    _require(len(frame.payload) <= MAX_REASON, frame, f"reason longer than {MAX_REASON} bytes")
    try:
        frame.payload.decode()
    except UnicodeDecodeError:
        _require(False, frame, "reason is not UTF-8")


def _check_ping(frame: Frame) -> None:
    _require(frame.channel == 0, frame, "only valid on channel 0")
    _require(frame.flags == 0, frame, f"unknown flags {frame.flags:#x}")
    _require(len(frame.payload) == TOKEN_SIZE, frame, f"payload must be {TOKEN_SIZE} bytes")


_CHECKS: dict[FrameType, Callable[[Frame], None]] = {
    FrameType.OPEN: _check_open,
    FrameType.DATA: _check_data,
    FrameType.CREDIT: _check_credit,
    FrameType.CLOSE: _check_close,
    FrameType.PING: _check_ping,
    FrameType.PONG: _check_ping,
}


def data_frame(channel: int, payload: bytes, *, fin: bool = False) -> Frame:
    return Frame(channel, FrameType.DATA, payload, FLAG_FIN if fin else 0)


def credit_frame(channel: int, amount: int) -> Frame:
    return Frame(channel, FrameType.CREDIT, _CREDIT.pack(amount))


def credit_of(frame: Frame) -> int:
    value: int = _CREDIT.unpack(frame.payload)[0]
    return value


def close_frame(channel: int, reason: str = "") -> Frame:
    return Frame(channel, FrameType.CLOSE, clip_reason(reason, MAX_REASON).encode())


def reason_of(frame: Frame) -> str:
    return frame.payload.decode()


def ping_frame(token: int) -> Frame:
    return Frame(0, FrameType.PING, _TOKEN.pack(token))


def pong_frame(ping: Frame) -> Frame:
    return Frame(0, FrameType.PONG, ping.payload)


def token_of(frame: Frame) -> int:
    value: int = _TOKEN.unpack(frame.payload)[0]
    return value


def clip_reason(reason: str, limit: int) -> str:
    """``reason`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    return reason.encode()[:limit].decode(errors="ignore")


def make_open_info(kind: str, priority: Priority | str, meta: Mapping[str, Any] | None) -> OpenInfo:
    """Validated channel metadata from application values (:class:`LinkError` when unusable)."""
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise LinkError(f"bad channel kind {kind!r}")
    if not isinstance(priority, str) or priority not in _PRIORITIES:
        raise LinkError(f"unknown channel priority {priority!r}")
    return OpenInfo(kind, Priority(priority), dict(meta or {}))


def encode_open(info: OpenInfo) -> bytes:
    try:
        payload = orjson.dumps({"kind": info.kind, "priority": info.priority.value, "meta": info.meta})
    except TypeError as exc:
        raise LinkError(f"channel metadata is not JSON: {exc}") from None
    if len(payload) > MAX_OPEN:
        raise LinkError(f"channel metadata is {len(payload)} bytes, limit {MAX_OPEN}")
    return payload


def decode_open(payload: bytes) -> OpenInfo:
    """Parse an OPEN payload: exactly ``kind``, ``priority`` and an object ``meta``."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise LinkProtocolError("channel metadata is not valid JSON") from None
    if not isinstance(doc, dict) or set(doc) != _OPEN_KEYS:
        raise LinkProtocolError("channel metadata must be an object with kind, priority and meta")
    if not isinstance(doc["meta"], dict):
        raise LinkProtocolError("channel meta must be an object")
    try:
        return make_open_info(doc["kind"], doc["priority"], doc["meta"])
    except LinkError as exc:
        raise LinkProtocolError(exc.message) from None
