"""Splitting a byte stream into numbered lines with a length cap, for strict JSON-lines reading.

A line longer than the cap is reported once (as `None`) and skipped up to its newline without
being held in memory; bytes after the last newline stay pending until more arrive.
"""

from __future__ import annotations


class LineSplitter:
    """Incremental splitter: `feed` chunks, get ``(line_no, bytes | None)`` pairs; `None` means too long."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.line_no = 0
        self._buf = bytearray()
        self._skipping = False

    @property
    def pending(self) -> int:
        """How many bytes of an unfinished line are held (0 while skipping an overlong line)."""
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[tuple[int, bytes | None]]:
        """Consume `chunk`; return every line it completes (and any overlong line it starts)."""
        out: list[tuple[int, bytes | None]] = []
        self._buf += chunk
        while (end := self._buf.find(b"\n")) >= 0:
            line = bytes(self._buf[:end])
            del self._buf[: end + 1]
            self._complete(line, out)
        self._check_overflow(out)
        return out

    def _complete(self, line: bytes, out: list[tuple[int, bytes | None]]) -> None:
        self.line_no += 1
        if self._skipping:
            self._skipping = False
        else:
            out.append((self.line_no, None if len(line) > self.max_bytes else line))

    def _check_overflow(self, out: list[tuple[int, bytes | None]]) -> None:
        if len(self._buf) > self.max_bytes:
            if not self._skipping:
                out.append((self.line_no + 1, None))
            self._skipping = True
            self._buf.clear()
