"""Reading a layer's decompressed bytes ahead in a second thread, so inflating overlaps tar parsing.

Inflating (zlib, igzip, zstd) and hashing release the GIL, while reading tar headers and building the tree
hold it: a thread that keeps the next few chunks ready lets both go on at once on two CPUs. At most
``depth`` chunks wait in memory. Whatever the thread meets (end of stream, a decoder error, ImageBomb,
DigestMismatch) reaches the reader, in order, as the same exception. ``close`` stops the thread and waits for
it, so nothing touches the underlying stream afterwards.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import Any, BinaryIO

CHUNK = 1 << 18
DEPTH = 8
_POLL_S = 0.05


class ReadAhead(io.RawIOBase):
    """A read-only stream over ``inner`` whose chunks a daemon thread reads ahead of the caller."""

    def __init__(self, inner: BinaryIO, chunk: int = CHUNK, depth: int = DEPTH) -> None:
        super().__init__()
        self.inner, self.chunk = inner, chunk
        self._ready: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._rest = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._fill, name="rampart-readahead", daemon=True)
        self._thread.start()

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        """The thread: read chunks until the end (b"") or an exception, each handed over in order."""
        while not self._stop.is_set():
            try:
                item: bytes | BaseException = self.inner.read(self.chunk)
            except BaseException as exc:  # handed to the reader, who raises it
                item = exc
            if not self._hand_over(item) or not isinstance(item, bytes) or not item:
                return

    def _hand_over(self, item: bytes | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._rest:
            if self._done:
                return 0
            item = self._ready.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return 0
            self._rest = memoryview(item)
        size = min(len(view), len(self._rest))
        view[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size

    def close(self) -> None:
        """Stop the thread and wait for it (chunks it read and nobody took are dropped)."""
        if not self.closed:
            self._stop.set()
            while self._thread.is_alive():
                self._drop_waiting()
                self._thread.join(_POLL_S)
            self._drop_waiting()
        super().close()

    def _drop_waiting(self) -> None:
        try:
            while True:
                self._ready.get_nowait()
        except queue.Empty:
            pass
