"""Neutralising recorded terminal output before it reaches a viewer's terminal.

A recorded host is untrusted, so its output may carry sequences that make the viewer's terminal answer
back (status, cursor, attribute and window reports), touch the clipboard or the system (OSC 52,
notifications, file transfer), redefine keys or change how the viewer's keyboard and mouse report.
`Neutraliser` parses ECMA-48 escape sequences (7-bit ``ESC`` forms and 8-bit C1 forms) and drops those;
everything else passes through byte for byte.

Choices: every DCS, SOS, PM and APC string is dropped (DECRQSS, XTGETTCAP, DECUDK, sixel, tmux passthrough,
kitty graphics); of the OSC strings only 0, 1 and 2 (window and icon titles) are kept, so OSC 8 hyperlinks
(whose target may differ from their text), OSC 7, OSC 52, colour/font queries and settings are dropped;
CSI reports and report requests are dropped, and DECSET/DECRST of mouse, focus and bracketed-paste modes.
ENQ and the C1 controls other than sequence introducers are dropped. A sequence split across `feed`
calls is held back (at most `max_held` characters); a longer one is dropped whole, up to its terminator.
"""

from __future__ import annotations

import enum
import re

ESC = "\x1b"
_CANCEL = "\x18\x1a"  # CAN, SUB abort a sequence
_SPECIAL = re.compile(r"[\x05\x1b\x80-\x9f]")
_STRING_STOP = re.compile(r"[\x07\x1b\x9c\x18\x1a]")
_ESC_STRINGS = {"P": "dcs", "X": "sos", "]": "osc", "^": "pm", "_": "apc"}
_C1_STRINGS = {"\x90": "dcs", "\x98": "sos", "\x9d": "osc", "\x9e": "pm", "\x9f": "apc"}
_CSI_BODY = re.compile(r"([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])")
_OSC_NUMBER = re.compile(r"(?:\x1b\]|\x9d)([0-9]*)")
_KEPT_OSC = frozenset({"0", "1", "2"})
_DROP_FINALS = frozenset("ncti")  # DSR/CPR, DA1-3, window ops and reports, media copy
_DROP_INTERMEDIATE = frozenset(
    {("$", "p"), ("$", "w"), ("$", "u"), ("*", "y"), ("&", "u"), ("#", "|"), ('"', "v")}
    | {("'", "w"), ("'", "z"), ("'", "{"), ("'", "|")}
)
_DROP_PRIVATE = frozenset(
    {(">", "q"), ("?", "S"), ("?", "u"), (">", "u"), ("<", "u"), ("=", "u"), ("?", "m"), (">", "m")}
)
_REPORTING_MODES = frozenset(
    {"9", "1000", "1001", "1002", "1003", "1004", "1005", "1006", "1015", "1016", "2004"}
)


class _Mode(enum.Enum):
    GROUND = enum.auto()
    ESC = enum.auto()
    ESC_INTERMEDIATE = enum.auto()
    CSI = enum.auto()
    STRING = enum.auto()
    STRING_ESC = enum.auto()


class Neutraliser:
    """Streaming filter: `feed` chunks of decoded output, get back what is safe to show."""

    def __init__(self, max_held: int = 4096) -> None:
        self._max_held = max_held
        self._mode = _Mode.GROUND
        self._seq: list[str] = []
        self._held = 0
        self._overflow = False
        self._kind = ""

    def feed(self, text: str) -> str:
        """Filter the next chunk; an unfinished sequence at its end is held for the next call."""
        out: list[str] = []
        i = 0
        while i < len(text):
            if self._mode is _Mode.GROUND:
                i = self._ground(text, i, out)
            elif self._mode is _Mode.STRING:
                i = self._string(text, i, out)
            else:
                i += self._step(text[i], out)
        return "".join(out)

    def reset(self) -> None:
        """Forget any held partial sequence (it is dropped)."""
        self._mode, self._seq, self._held, self._overflow = _Mode.GROUND, [], 0, False

    def _ground(self, text: str, i: int, out: list[str]) -> int:
        match = _SPECIAL.search(text, i)
        if match is None:
            out.append(text[i:])
            return len(text)
        out.append(text[i : match.start()])
        char = match.group()
        if char == ESC:
            self._begin(_Mode.ESC, char)
        elif char == "\x9b":
            self._begin(_Mode.CSI, char)
        elif char in _C1_STRINGS:
            self._begin(_Mode.STRING, char, _C1_STRINGS[char])
        return match.end()  # ENQ and other C1 controls are dropped

    def _step(self, char: str, out: list[str]) -> int:
        """Handle one character inside a sequence; returns 0 when `char` must be looked at again."""
        if char in _CANCEL:
            self.reset()
            return 1
        if self._mode is _Mode.ESC:
            return self._escape(char, out)
        if self._mode is _Mode.ESC_INTERMEDIATE:
            return self._escape_intermediate(char, out)
        if self._mode is _Mode.CSI:
            return self._csi(char, out)
        return self._string_escape(char, out)

    def _escape(self, char: str, out: list[str]) -> int:
        if char == "[":
            self._mode = _Mode.CSI
        elif char in _ESC_STRINGS:
            self._mode, self._kind = _Mode.STRING, _ESC_STRINGS[char]
        elif "\x20" <= char <= "\x2f":
            self._mode = _Mode.ESC_INTERMEDIATE
        elif "\x30" <= char <= "\x7e":
            self._add(char)
            self._finish(out, keep=char not in "Z\\")  # DECID (identity request), stray ST
            return 1
        else:
            self.reset()
            return 0
        self._add(char)
        return 1

    def _escape_intermediate(self, char: str, out: list[str]) -> int:
        if not "\x20" <= char <= "\x7e":
            self.reset()
            return 0
        self._add(char)
        if char >= "\x30":
            self._finish(out, keep=True)
        return 1

    def _csi(self, char: str, out: list[str]) -> int:
        if not "\x20" <= char <= "\x7e":
            self.reset()
            return 0
        self._add(char)
        if char >= "\x40":
            body = "".join(self._seq)[2 if self._seq[:1] == [ESC] else 1 :]
            self._finish(out, keep=csi_allowed(body))
        return 1

    def _string(self, text: str, i: int, out: list[str]) -> int:
        match = _STRING_STOP.search(text, i)
        if match is None:
            self._add(text[i:])
            return len(text)
        self._add(text[i : match.start()])
        char = match.group()
        if char in _CANCEL:
            self.reset()
        elif char == ESC:
            self._mode = _Mode.STRING_ESC
            self._add(char)
        else:
            self._add(char)
            self._finish(out, keep=self._string_allowed())
        return match.end()

    def _string_escape(self, char: str, out: list[str]) -> int:
        if char == "\\":
            self._add(char)
            self._finish(out, keep=self._string_allowed())
            return 1
        self.reset()  # ESC and anything but "\" aborts the string and starts a new sequence
        self._begin(_Mode.ESC, ESC)
        return 0

    def _string_allowed(self) -> bool:
        if self._kind != "osc" or self._overflow:
            return False
        match = _OSC_NUMBER.match("".join(self._seq))
        return match is not None and match.group(1) in _KEPT_OSC

    def _begin(self, mode: _Mode, char: str, kind: str = "") -> None:
        self._mode, self._seq, self._held, self._overflow, self._kind = mode, [char], len(char), False, kind

    def _add(self, text: str) -> None:
        if self._overflow or not text:
            return
        if self._held + len(text) > self._max_held:
            self._overflow, self._seq, self._held = True, [], 0
            return
        self._seq.append(text)
        self._held += len(text)

    def _finish(self, out: list[str], *, keep: bool) -> None:
        if keep and not self._overflow:
            out.append("".join(self._seq))
        self.reset()


def csi_allowed(body: str) -> bool:
    """Whether a CSI sequence (without its introducer) is safe to pass to a viewer's terminal."""
    match = _CSI_BODY.fullmatch(body)
    if match is None:
        return False
    params, intermediates, final = match.groups()
    private = params[:1] if params[:1] in ("<", "=", ">", "?") else ""
    if final in _DROP_FINALS or (intermediates, final) in _DROP_INTERMEDIATE:
        return False
    if private and (private, final) in _DROP_PRIVATE:
        return False
    if final == "x" and not private and not intermediates:
        return False  # DECREQTPARM
    if private == "?" and final in "hl" and not intermediates:
        return not _REPORTING_MODES.intersection(params[1:].split(";"))
    return True


def neutralise(text: str) -> str:
    """One-shot `Neutraliser`: an unfinished sequence at the end is dropped."""
    return Neutraliser().feed(text)
