"""Where audit events go: the `AuditSink` protocol, an append-only JSON-lines file, following it, export.

The file holds one `rampart.audit.codec.to_line` record per line. Reading is strict and never
crashes: a line that is not valid UTF-8 JSON, not an object, mistyped, overlong or cut short is
reported as a `BadLine` with its 1-based line number, and reading goes on.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from rampart.audit.chain import Anchor, BreakReason, VerifyResult, verify
from rampart.audit.codec import from_record, to_line
from rampart.audit.events import AuditEvent
from rampart.audit.lines import LineSplitter
from rampart.durable import fsync_directory
from rampart.errors import AuditError

MAX_LINE_BYTES = 256 * 1024
_CHUNK = 64 * 1024


class AuditSink(Protocol):
    """Anything that durably stores an event before `write` returns."""

    def write(self, event: AuditEvent) -> None:
        """Store `event`; raise `AuditError` when it cannot be stored."""


@dataclass(frozen=True)
class BadLine:
    """A line of an audit file that is not a readable event."""

    line_no: int
    message: str


class JsonLinesFileSink:
    """Append-only JSON-lines file (mode 0600), one event per line, fsync'd on every append."""

    def __init__(self, path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = path
        self.max_line_bytes = max_line_bytes

    def write(self, event: AuditEvent) -> None:
        """Append `event` as one line and fsync it; refuse lines the reader would reject."""
        data = to_line(event).encode("ascii")
        if len(data) > self.max_line_bytes:
            raise AuditError(f"audit event seq {event.seq} is longer than {self.max_line_bytes} bytes")
        try:
            self._append(data + b"\n")
        except OSError as exc:
            raise AuditError(f"cannot append to audit log {self.path}: {exc.strerror}") from None

    def _append(self, data: bytes) -> None:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.path.parent)

    def read(self) -> Iterator[AuditEvent | BadLine]:
        """Every line of the file in order, as events or `BadLine` reports."""
        return read_jsonl(self.path, self.max_line_bytes)


def parse_line(line_no: int, raw: bytes | None) -> AuditEvent | BadLine:
    """One line's bytes (`None`: overlong) as an event, or a `BadLine` saying what is wrong."""
    if raw is None:
        return BadLine(line_no, "line is longer than the limit")
    try:
        return from_record(
            json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
        )
    except UnicodeDecodeError:
        return BadLine(line_no, "line is not valid UTF-8")
    except (ValueError, RecursionError):
        return BadLine(line_no, "line is not valid JSON")
    except AuditError as exc:
        return BadLine(line_no, exc.message)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record = dict(pairs)
    if len(record) != len(pairs):
        raise AuditError("a JSON object repeats a key")
    return record


def _no_constants(name: str) -> object:
    raise AuditError(f"JSON constant {name} is not allowed")


def read_jsonl(path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[AuditEvent | BadLine]:
    """Read an audit file line by line; a last line without its newline is reported as cut short."""
    splitter = LineSplitter(max_line_bytes)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            for line_no, raw in splitter.feed(chunk):
                yield parse_line(line_no, raw)
    if splitter.pending:
        yield BadLine(splitter.line_no + 1, "line is cut short (no newline at the end of the file)")


def verify_file(
    path: Path, anchor: Anchor | None = None, max_line_bytes: int = MAX_LINE_BYTES
) -> VerifyResult:
    """Verify an audit file; an unreadable line is a break (`MALFORMED`) at its line number."""
    bad: list[BadLine] = []
    result = verify(_until_bad(read_jsonl(path, max_line_bytes), bad), anchor)
    if bad and (result.position is None or result.position >= bad[0].line_no):
        return VerifyResult(
            result.checked, result.head, bad[0].line_no, BreakReason.MALFORMED, bad[0].message
        )
    return result


def _until_bad(items: Iterable[AuditEvent | BadLine], bad: list[BadLine]) -> Iterator[AuditEvent]:
    for item in items:
        if isinstance(item, BadLine):
            bad.append(item)
            return
        yield item


def follow(
    path: Path, stop: threading.Event, poll_seconds: float = 0.1, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[AuditEvent | BadLine]:
    """Yield each line of `path` as it is appended, from the start, until `stop` is set.

    Waits for the file to appear; an unfinished last line is held until its newline arrives. If the
    file shrinks (truncated or replaced), a `BadLine` says so and following ends.
    """
    stream = _wait_open(path, stop, poll_seconds)
    if stream is None:
        return
    with stream:
        yield from _follow_open(stream, path, stop, poll_seconds, LineSplitter(max_line_bytes))


def _wait_open(path: Path, stop: threading.Event, poll_seconds: float) -> BinaryIO | None:
    while not stop.is_set():
        try:
            return path.open("rb")
        except FileNotFoundError:
            stop.wait(poll_seconds)
    return None


def _follow_open(
    stream: BinaryIO, path: Path, stop: threading.Event, poll_seconds: float, splitter: LineSplitter
) -> Iterator[AuditEvent | BadLine]:
    while not stop.is_set():
        chunk = stream.read(_CHUNK)
        for line_no, raw in splitter.feed(chunk):
            yield parse_line(line_no, raw)
        if chunk:
            continue
        if _shrank(stream, path):
            yield BadLine(splitter.line_no + 1, "audit file shrank or was replaced while following")
            return
        stop.wait(poll_seconds)


def _shrank(stream: BinaryIO, path: Path) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return True
    opened = os.fstat(stream.fileno())
    return (now.st_ino, now.st_dev) != (opened.st_ino, opened.st_dev) or now.st_size < stream.tell()


def export_jsonl(events: Iterable[AuditEvent]) -> str:
    """Events as JSON lines (ASCII, one per line, each ending in a newline) for a SIEM."""
    return "".join(to_line(event) + "\n" for event in events)
