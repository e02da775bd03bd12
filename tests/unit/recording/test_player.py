"""play: timing with a fake sleep, idle cap, speed, stream selection, base64 decoding, neutralising, resizes."""

from __future__ import annotations

import base64
import math

import pytest

from rampart.errors import UsageError
from rampart.recording.player import play


def run(events: list[tuple[float, str, str]], **kw: object) -> tuple[str, list[float]]:
    out: list[str] = []
    sleeps: list[float] = []
    play(events, out.append, sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    return "".join(out), sleeps


def test_timing_with_idle_cap_and_speed() -> None:
    events = [(0.5, "o", "a"), (1.0, "o", "b"), (11.0, "o", "c"), (11.0, "o", "d")]
    text, sleeps = run(events)
    assert text == "abcd"
    assert sleeps == [0.5, 0.5, 2.0]
    _, fast = run(events, speed=2.0)
    assert fast == [0.25, 0.25, 1.0]
    _, uncapped = run(events, max_idle=None)
    assert uncapped == [0.5, 0.5, 10.0]


def test_time_going_backwards_or_broken_does_not_sleep() -> None:
    _, sleeps = run(
        [(5.0, "o", "a"), (1.0, "o", "b"), (math.nan, "o", "c"), (math.inf, "o", "d"), (6.0, "o", "e")]
    )
    assert sleeps == [2.0, 1.0]


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan, math.inf])
def test_bad_speed_is_refused(speed: float) -> None:
    with pytest.raises(UsageError):
        run([], speed=speed)


def test_negative_idle_cap_is_refused() -> None:
    with pytest.raises(UsageError):
        run([], max_idle=-1.0)


def test_output_is_neutralised_across_events() -> None:
    text, _ = run([(0, "o", "x\x1b[6"), (0, "o", "n\x1b]52;c;aGk=\x07y\x1b[1mz")])
    assert text == "xy\x1b[1mz"


def test_input_only_on_request_and_stderr_by_default() -> None:
    events = [(0, "i", "ls\r"), (0, "o", "out "), (0, "e", "err")]
    assert run(events)[0] == "out err"
    assert run(events, include_input=True)[0] == "ls\rout err"
    assert run(events, include_stderr=False)[0] == "out "


def test_base64_chunks_are_decoded_even_when_split() -> None:
    raw = "wörld ✓\x1b[6n".encode()
    events = [(0, "ob", base64.b64encode(raw[:2]).decode()), (0, "ob", base64.b64encode(raw[2:]).decode())]
    assert run(events)[0] == "wörld ✓"


def test_invalid_base64_and_bytes_are_harmless() -> None:
    events = [(0, "ob", "!!notbase64"), (0, "ob", base64.b64encode(b"\xff\xfeok").decode()), (0, "o", "!")]
    assert run(events)[0] == "\ufffd\ufffdok!"


def test_resize_and_markers() -> None:
    sizes: list[tuple[int, int]] = []
    text, _ = run(
        [(0, "r", "100x30"), (0, "r", "bad"), (0, "r", "1x99999999"), (0, "m", "mark"), (0, "x", "end")],
        on_resize=lambda c, r: sizes.append((c, r)),
    )
    assert text == ""
    assert sizes == [(100, 30)]
