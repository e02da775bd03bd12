"""`SessionBroker`: every live session of this server process, and starting new ones.

The blob store and the signing key are opened on first use. With recordings set to fail closed, a
session whose recording cannot be written is refused before anything runs on the host.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.concurrency import run_in_threadpool

from rampart.errors import RampartError, RecordingStoreError, SessionError
from rampart.recording.blobstore import BlobStore, open_blob_store
from rampart.recording.signing import load_or_create_signing_key
from rampart.server.sessions.live import LiveSession
from rampart.server.sessions.recorder import SessionRecorder
from rampart.server.sessions.spec import SessionSpec
from rampart.store import sessions as session_store

if TYPE_CHECKING:
    from rampart.server.state import ServerState

log = logging.getLogger("rampart.server")


class RecordingUnavailable(SessionError):
    """Recordings fail closed and the store cannot be written: no session may start."""


class SessionBroker:
    """See the module docstring."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.live: dict[str, LiveSession] = {}

    @cached_property
    def store(self) -> BlobStore:
        return open_blob_store(self.state.config.recording_url)

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        return load_or_create_signing_key(self.state.config.recording_key_path)

    def get(self, session_id: str) -> LiveSession | None:
        return self.live.get(session_id)

    def forget(self, live: LiveSession) -> None:
        if self.live.get(live.spec.id) is live:
            del self.live[live.spec.id]

    async def start(self, spec: SessionSpec) -> LiveSession:
        """Check the recording store, store the session, and start it on the host (not yet for a
        forward, whose connections start legs as they come)."""
        await self._check_store()
        await run_in_threadpool(self._store_start, spec)
        live = LiveSession(self.state, spec, SessionRecorder(self.store, self.signing_key, spec))
        self.live[spec.id] = live
        if spec.kind != "forward":
            try:
                await live.open_leg(0)
            except RampartError as error:
                live.request_end(f"could not start: {error.message}")
                await live.wait_ended()
                raise
        return live

    async def _check_store(self) -> None:
        try:
            await run_in_threadpool(self.store.probe)
        except RecordingStoreError as error:
            if self.state.config.recording_fail_closed:
                raise RecordingUnavailable(f"recordings are unavailable ({error.message})") from None
            log.error("recordings are unavailable (%s); sessions go on unrecorded", error.message)

    def _store_start(self, spec: SessionSpec) -> None:
        with self.state.session() as session:
            session_store.add_session(
                session,
                id=spec.id,
                kind=spec.kind,
                host_id=spec.host_id,
                hostname=spec.hostname,
                user_name=spec.user,
                login=spec.login,
                client_address=spec.client_address,
                command=spec.command,
                target=spec.target,
                path=spec.path,
                direction=spec.direction,
                policies=",".join(spec.policies),
                started_at=self.state.clock(),
                bytes_in=0,
                bytes_out=0,
            )

    async def close_all(self, reason: str) -> None:
        """End every live session (server shutdown)."""
        sessions = list(self.live.values())
        for live in sessions:
            live.request_end(reason)
        await asyncio.gather(*(live.wait_ended() for live in sessions), return_exceptions=True)
