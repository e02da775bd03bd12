"""Length-prefixed JSON messages on a channel's byte stream: a u32 big-endian size, then orjson bytes."""

from __future__ import annotations

import struct
from typing import Any

import orjson

from rampart.errors import LinkError, LinkProtocolError

MESSAGE_HEADER = struct.Struct(">I")
DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
MAX_MESSAGE_LIMIT = 2**32 - 1


def check_limit(limit: int) -> int:
    if not 0 < limit <= MAX_MESSAGE_LIMIT:
        raise LinkError(f"message size limit must be 1..{MAX_MESSAGE_LIMIT}, not {limit}")
    return limit


def encode_message(obj: Any, limit: int) -> tuple[bytes, bytes]:
    """The size header and the JSON body of ``obj``; LinkProtocolError when larger than ``limit``."""
    try:
        body = orjson.dumps(obj)
    except TypeError as exc:
        raise LinkError(f"message is not JSON: {exc}") from None
    if len(body) > limit:
        raise LinkProtocolError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return MESSAGE_HEADER.pack(len(body)), body


def message_size(header: bytes, limit: int) -> int:
    """The body size announced by ``header``; LinkProtocolError when truncated or above ``limit``."""
    if len(header) != MESSAGE_HEADER.size:
        raise LinkProtocolError(f"stream ended inside a message header ({len(header)} bytes)")
    size: int = MESSAGE_HEADER.unpack(header)[0]
    if size > limit:
        raise LinkProtocolError(f"incoming message of {size} bytes exceeds the limit of {limit}")
    return size


def decode_message(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise LinkProtocolError("message is not valid JSON") from None
