"""The stored layout of a recording, shared by the writer and the reader.

``sessions/<sid>/seg-000001.jsonl`` ... are the segments: line 1 is ``{"segment", "session", "prev"}``
(``prev`` = sha256 hex of the previous segment blob, 64 zeros for the first), segment 1's line 2 is the
asciicast v2 header, every other line one ``[t, code, data]`` event. ``sessions/<sid>/end.json`` is the
signed end record; its signature covers `end_message`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson

from rampart.errors import RecordingError

GENESIS = "0" * 64
END_DOMAIN = b"rampart-recording-end-v1\n"
END_NAME = "end.json"
TEXT_CODES = frozenset({"o", "e", "i"})
BASE64_CODES = frozenset({"ob", "eb", "ib"})
EVENT_CODES = TEXT_CODES | BASE64_CODES | frozenset({"r", "m", "x"})
_SESSION_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
_SEGMENT_NAME = re.compile(r"seg-([0-9]{6,9})\.jsonl")


def check_session_id(sid: str) -> str:
    """Return `sid` when it can name a recording (one key segment), else raise `RecordingError`."""
    if not isinstance(sid, str) or not _SESSION_ID.fullmatch(sid) or ".." in sid:
        raise RecordingError(f"session id {str(sid)[:80]!r} cannot name a recording")
    return sid


def session_prefix(sid: str) -> str:
    """The key prefix under which session `sid`'s blobs live."""
    return f"sessions/{check_session_id(sid)}/"


def segment_key(sid: str, number: int) -> str:
    """The blob key of segment `number` (1-based) of session `sid`."""
    return f"{session_prefix(sid)}seg-{number:06d}.jsonl"


def end_key(sid: str) -> str:
    """The blob key of session `sid`'s signed end record."""
    return session_prefix(sid) + END_NAME


def segment_number(name: str) -> int | None:
    """The number in a segment blob's file name, or None for any other name."""
    match = _SEGMENT_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def blob_hash(data: bytes) -> str:
    """The sha256 hex digest that chains segments together."""
    return hashlib.sha256(data).hexdigest()


def end_message(end: Mapping[str, Any]) -> bytes:
    """The exact bytes signed for an end record: the domain line, then sorted-key JSON without the signature."""
    body = {k: v for k, v in end.items() if k != "signature"}
    return END_DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
