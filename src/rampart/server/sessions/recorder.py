"""`SessionRecorder`: one session's recording on the server, flushed to the blob store in segments.

Everything is recorded here, never on the host. Writes happen in a worker thread once a second (or
sooner when a segment fills); a store failure is reported to the session, which ends itself when
recordings are set to fail closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rampart.errors import RecordingStoreError
from rampart.recording.blobstore import BlobStore
from rampart.recording.writer import RecordingWriter
from rampart.server.sessions.spec import SessionSpec

log = logging.getLogger("rampart.server")
FLUSH_INTERVAL = 1.0
Failure = Callable[[RecordingStoreError], Awaitable[None]]


class SessionRecorder:
    """Records one session's terminal, streams or transfer summaries."""

    def __init__(self, store: BlobStore, key: Ed25519PrivateKey, spec: SessionSpec) -> None:
        header = {
            "width": spec.cols,
            "height": spec.rows,
            "env": {"TERM": spec.term},
            **spec.recording_header(),
        }
        self.writer = RecordingWriter(store, spec.id, header, key)
        self.lossless = spec.kind != "shell"
        self._wake = asyncio.Event()
        self.failed: RecordingStoreError | None = None

    def output(self, code: str, data: bytes) -> None:
        """Bytes of a stream: ``o`` output, ``e`` stderr, ``i`` input."""
        self.writer.output(code, data, lossless=self.lossless)
        self._poke()

    def resize(self, cols: int, rows: int) -> None:
        self.writer.event("r", f"{cols}x{rows}")

    def marker(self, what: dict[str, Any]) -> None:
        """A structured note (exit, transfer summary, echo change) as an asciicast marker."""
        self.writer.event("m", orjson.dumps(what).decode())
        self._poke()

    def _poke(self) -> None:
        if self.writer.flush_due():
            self._wake.set()

    async def run(self, on_failure: Failure) -> None:
        """Flush pending events every second until cancelled; report store failures."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL)
            self._wake.clear()
            await self._flush(on_failure)

    async def _flush(self, on_failure: Failure) -> None:
        try:
            await asyncio.to_thread(self.writer.flush)
        except RecordingStoreError as error:
            if self.failed is None:
                log.error("recording %s: %s", self.writer.session_id, error.message)
            self.failed = error
            await on_failure(error)
        else:
            self.failed = None

    async def close(self, end: dict[str, Any]) -> None:
        """Write what is pending and the signed end; failures are logged (the session is over)."""
        try:
            await asyncio.to_thread(self.writer.close, end)
        except RecordingStoreError as error:
            log.error("recording %s could not be closed: %s", self.writer.session_id, error.message)
