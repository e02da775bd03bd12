"""Neutraliser: answer-back, clipboard and system sequences dropped; ordinary output untouched, even when split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.recording.sanitize import Neutraliser, csi_allowed, neutralise

E = "\x1b"
ST = E + "\\"

KEPT = [
    "plain text\r\n",
    "héllo ✓ 🎉 日本語",
    E + "[0m",
    E + "[1;31mred" + E + "[0m",
    E + "[38;5;208m" + E + "[48;2;10;20;30m",
    E + "[38:2::10:20:30m",
    E + "[H" + E + "[2J" + E + "[3J",
    E + "[10;20H" + E + "[A" + E + "[5B" + E + "[C" + E + "[D",
    E + "[K" + E + "[1K" + E + "[2K",
    E + "[?25l" + E + "[?25h",
    E + "[?1049h" + E + "[?1049l",
    E + "[?7h" + E + "[?1h" + E + "[?2026h",
    E + "[1;24r",
    E + "[s" + E + "[u",
    E + "[2 q",
    E + "[4l" + E + "[20h",
    E + "[!p",
    E + "7" + E + "8",
    E + "=" + E + ">",
    E + "(B" + E + ")0" + E + "#8",
    E + "M" + E + "D" + E + "E" + E + "c",
    E + "]0;my title\x07",
    E + "]2;host: ~/src" + ST,
    "\x9d1;icon\x07",
    "tab\tbell\x07backspace\x08cr\rlf\n",
    "\x9b0m",
]

DROPPED = [
    E + "[5n",
    E + "[6n",
    E + "[?6n",
    E + "[?15n",
    E + "[?996n",
    E + "[c",
    E + "[0c",
    E + "[>c",
    E + "[>0c",
    E + "[=c",
    E + "Z",
    E + "[?2026$p",
    E + "[4$p",
    E + "[1$w",
    E + "[1$u",
    E + "[1;1;1;1;1;1*y",
    E + "[1&u",
    E + "[14t",
    E + "[18t",
    E + "[21t",
    E + "[8;100;200t",
    E + "[3;0;0t",
    E + "[>q",
    E + "[>0q",
    E + "[?u",
    E + "[>1u",
    E + "[<u",
    E + "[?4m",
    E + "[>4;2m",
    E + "[?1;1S",
    E + "[1;1;1;1#|",
    E + '["v',
    E + "[1'z",
    E + "[1'|",
    E + "[0x",
    E + "[5i",
    E + "[?1000h",
    E + "[?1003;1006h",
    E + "[?25;1004h",
    E + "[?2004h",
    E + "P$qm" + ST,
    E + 'P$q"p' + ST,
    E + "P+q544e" + ST,
    E + "P1;1|17/ab" + ST,
    E + "Pq#0;2;0;0;0#0~~~~" + ST,
    E + "Ptmux;" + E + E + "]52;c;aGk=\x07" + ST,
    E + "]52;c;aGVsbG8=\x07",
    E + "]52;c;?" + ST,
    E + "]52;;aGVsbG8=" + ST,
    E + "]4;1;?\x07",
    E + "]4;1;rgb:ff/00/00\x07",
    E + "]10;?\x07",
    E + "]11;?" + ST,
    E + "]12;?\x07",
    E + "]17;?\x07",
    E + "]19;?\x07",
    E + "]50;?\x07",
    E + "]104\x07",
    E + "]7;file://host/tmp\x07",
    E + "]8;;https://evil.example/\x07",
    E + "]8;;\x07",
    E + "]9;notify\x07",
    E + "]777;notify;title;body\x07",
    E + "]1337;File=name=eA==:eA==\x07",
    E + "]\x07",
    E + "X sos " + ST,
    E + "^ privacy " + ST,
    E + "_Ga=T,f=100;AAAA" + ST,
    "\x05",
    "\x9b6n",
    "\x9bc",
    "\x9b>c",
    "\x9b14t",
    "\x90$qm\x9c",
    "\x90+q544e" + ST,
    "\x9d52;c;aGk=\x07",
    "\x9d52;c;aGk=\x9c",
    "\x9d10;?\x07",
    "\x98sos\x9c",
    "\x9epm\x9c",
    "\x9fapc\x9c",
    "\x9a",
    "\x9c",
    "\x85",
    E + "\\",
]


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_output_passes_unchanged(text: str) -> None:
    assert neutralise(text) == text


@pytest.mark.parametrize("seq", DROPPED)
def test_dangerous_sequences_are_dropped(seq: str) -> None:
    assert neutralise("a" + seq + "b") == "ab"


@pytest.mark.parametrize("seq", DROPPED + KEPT)
def test_split_at_every_position_gives_the_same_result(seq: str) -> None:
    text = "x" + seq + "y" + E + "[1m"
    expected = neutralise(text)
    for cut in range(len(text) + 1):
        filt = Neutraliser()
        assert filt.feed(text[:cut]) + filt.feed(text[cut:]) == expected, cut


@pytest.mark.parametrize("seq", DROPPED)
def test_one_character_at_a_time(seq: str) -> None:
    filt = Neutraliser()
    assert "".join(filt.feed(c) for c in "a" + seq + "b") == "ab"


def test_unterminated_osc_at_end_is_dropped() -> None:
    assert neutralise("ok" + E + "]52;c;aGVsbG8=") == "ok"


def test_unterminated_osc_is_held_then_dropped() -> None:
    filt = Neutraliser()
    assert filt.feed("ok" + E + "]52;c;aGVs") == "ok"
    assert filt.feed("bG8=") == ""
    assert filt.feed("\x07after") == "after"


def test_long_osc_beyond_the_cap_is_dropped_whole() -> None:
    filt = Neutraliser(max_held=64)
    out = filt.feed("a" + E + "]52;c;" + "QUFB" * 100)
    out += filt.feed("QUFB" * 1000)
    out += filt.feed("\x07b")
    assert out == "ab"


def test_long_title_beyond_the_cap_is_dropped() -> None:
    filt = Neutraliser(max_held=16)
    assert filt.feed(E + "]0;" + "t" * 100 + "\x07z") == "z"


def test_held_text_is_bounded() -> None:
    filt = Neutraliser(max_held=4096)
    for _ in range(1000):
        filt.feed("A" * 1000)
    filt.feed(E + "P")
    for _ in range(1000):
        filt.feed("B" * 1000)
    assert filt._held <= 4096


def test_long_csi_beyond_the_cap_is_dropped() -> None:
    filt = Neutraliser(max_held=32)
    assert filt.feed(E + "[" + "1;" * 100 + "m" + "after") == "after"


def test_escape_aborts_an_unterminated_string() -> None:
    assert neutralise(E + "]52;c;aGk=" + E + "[1mbold") == E + "[1mbold"


def test_cancel_aborts_sequences() -> None:
    assert neutralise(E + "[6\x18n") == "n"
    assert neutralise(E + "]52;c;x\x1aafter") == "after"
    assert neutralise(E + "\x18x") == "x"


def test_controls_inside_csi_are_kept_and_the_sequence_dropped() -> None:
    assert neutralise(E + "[6\nn") == "\nn"


def test_double_escape() -> None:
    assert neutralise(E + E + "[1m") == E + "[1m"


def test_malformed_csi_is_dropped() -> None:
    assert neutralise(E + "[1$2p") == ""
    assert not csi_allowed("1$2p")


def test_escape_followed_by_non_ascii() -> None:
    assert neutralise(E + "é") == "é"


def test_stateful_across_many_feeds() -> None:
    filt = Neutraliser()
    chunks = ["a\x1b", "[", "6", "n", "b\x1b]", "5", "2;", "c;x", "\x1b", "\\c", "\x1b[1", "m"]
    assert "".join(filt.feed(c) for c in chunks) == "abc\x1b[1m"


def test_reset_drops_held_sequence() -> None:
    filt = Neutraliser()
    filt.feed(E + "[6")
    filt.reset()
    assert filt.feed("n") == "n"


def test_big_plain_output_is_fast_path() -> None:
    text = ("line of output " * 20 + "\r\n") * 2000
    assert neutralise(text) == text


_PIECES = st.sampled_from(
    [
        *["\x1b", "[", "]", "P", "\\", "\x07", "\x9b", "\x9d", "\x90", "\x9c", "\x18", "\x05", "52", "é"],
        *"0123456789;?>$'\"*&#cmnptqhluSZx ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40), st.integers(min_value=0, max_value=200))
def test_random_input_is_split_invariant_and_idempotent(pieces: list[str], cut: int) -> None:
    text = "".join(pieces)
    once = neutralise(text)
    filt = Neutraliser()
    assert filt.feed(text[:cut]) + filt.feed(text[cut:]) == once
    assert neutralise(once) == once
    assert "\x05" not in once and "\x1b[6n" not in once and "\x1b]52" not in once
