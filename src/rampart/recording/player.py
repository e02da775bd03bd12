"""Replaying recorded events to a viewer: timing, decoding and neutralising, with the output side injected.

`play` never writes to a terminal itself: it calls `write` with safe text and `sleep` with the delays,
so it is driven by a fake clock in tests and by ``sys.stdout`` in the CLI.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
import time
from collections.abc import Callable, Iterable

from rampart.errors import UsageError
from rampart.recording.sanitize import Neutraliser

_RESIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")


class _Stream:
    """One recorded stream: text and base64 chunks decoded to text, then neutralised."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._filter = Neutraliser()

    def render(self, code: str, data: str) -> str:
        return self.encoded(data) if code.endswith("b") else self.text(data)

    def text(self, data: str) -> str:
        return self._filter.feed(self._decoder.decode(b"", final=True) + data)

    def encoded(self, data: str) -> str:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return ""
        return self._filter.feed(self._decoder.decode(raw))


def play(
    events: Iterable[tuple[float, str, str]],
    write: Callable[[str], None],
    *,
    speed: float = 1.0,
    max_idle: float | None = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    include_input: bool = False,
    include_stderr: bool = True,
    on_resize: Callable[[int, int], None] | None = None,
) -> None:
    """Write the recorded output with its timing: gaps capped at `max_idle` seconds, then divided by `speed`."""
    _check_settings(speed, max_idle)
    wanted = {"o"} | ({"e"} if include_stderr else set()) | ({"i"} if include_input else set())
    streams = {code: _Stream() for code in wanted}
    last = 0.0
    for t, code, data in events:
        last = _wait(t, last, speed, max_idle, sleep)
        if code == "r":
            _resize(data, on_resize)
        elif code.removesuffix("b") in streams:
            text = streams[code.removesuffix("b")].render(code, data)
            if text:
                write(text)


def _check_settings(speed: float, max_idle: float | None) -> None:
    if not (math.isfinite(speed) and speed > 0):
        raise UsageError("playback speed must be a positive number")
    if max_idle is not None and not (math.isfinite(max_idle) and max_idle >= 0):
        raise UsageError("playback idle cap must be a non-negative number")


def _wait(
    t: float, last: float, speed: float, max_idle: float | None, sleep: Callable[[float], None]
) -> float:
    if not math.isfinite(t) or t <= last:
        return last
    gap = t - last if max_idle is None else min(t - last, max_idle)
    if gap > 0:
        sleep(gap / speed)
    return t


def _resize(data: str, on_resize: Callable[[int, int], None] | None) -> None:
    match = _RESIZE.fullmatch(data)
    if on_resize is not None and match is not None:
        on_resize(int(match.group(1)), int(match.group(2)))
