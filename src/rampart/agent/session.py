"""One connection of the agent to the server: handshake, control channel, deliveries, rotation.

The agent dials out (wss, TLS 1.2+, trusting only the pinned CA) and never listens. After the
handshake it opens a control channel for heartbeats, jobs and credential rotation, and delivers
spooled results one bulk channel each; a result leaves the spool only when the server says it is
stored (or a duplicate, or can never be stored).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rampart.agent import protocol as p
from rampart.agent.identity import AgentIdentity, generate_key, make_csr
from rampart.agent.spool import Spool, SpoolItem
from rampart.auth.proof import proof_message, sign_proof
from rampart.errors import AgentLinkError
from rampart.link.channel import Channel
from rampart.link.mux import Mux
from rampart.link.transport import Transport
from rampart.pki.pem import fingerprint

log = logging.getLogger("rampart.agent")
JobRequest = Callable[[p.Job], Awaitable[None]]
ChannelHandler = Callable[[Channel], Coroutine[Any, Any, None]]
LEASE_SECONDS = 600.0
IDLE_POLL = 30.0
DELIVERY_TIMEOUT = 600.0  # a delivery the server never answers is handed back and retried
HANDSHAKE_TIMEOUT = 15.0


async def handshake(transport: Transport, identity: AgentIdentity, agent_version: str) -> p.Welcome:
    """Answer the server's challenge with our certificate and a proof of key possession."""
    challenge = p.decode(p.Challenge, await asyncio.wait_for(transport.recv(), HANDSHAKE_TIMEOUT))
    nonce = base64.b64decode(challenge.challenge)
    message = proof_message(nonce, identity.host_id, fingerprint(identity.ca_pem))
    hello = p.Hello(
        host_id=identity.host_id,
        certificate_pem=identity.certificate_pem,
        signature=base64.b64encode(sign_proof(identity.key, message)).decode(),
        agent_version=agent_version,
    )
    await transport.send(p.encode(hello))
    return p.decode(p.Welcome, await asyncio.wait_for(transport.recv(), HANDSHAKE_TIMEOUT))


class LinkSession:
    """Serves one established link until it ends."""

    def __init__(
        self,
        mux: Mux,
        welcome: p.Welcome,
        identity: AgentIdentity,
        state_dir: Path,
        spool: Spool,
        spooled: asyncio.Event,
        on_job: JobRequest,
        on_session: ChannelHandler,
    ) -> None:
        self.mux, self.welcome, self.identity, self.state_dir = mux, welcome, identity, state_dir
        self.spool, self.spooled, self.on_job, self.on_session = spool, spooled, on_job, on_session
        self._channel_tasks: set[asyncio.Task[None]] = set()
        self._rotated: asyncio.Future[str] | None = None

    async def serve(self) -> None:
        """Run the control loop, heartbeats and deliveries; return when the link closes."""
        control = await self.mux.open("control", "control", {})
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(coro)
                for coro in (
                    self._read_control(control),
                    self._heartbeats(control),
                    self._deliver(),
                    self._rotate(control),
                    self._accept_channels(),
                )
            ]
            await self.mux.closed.wait()
            for task in tasks:
                task.cancel()

    async def _accept_channels(self) -> None:
        """Channels the server opens: access sessions (anything else is refused)."""
        while True:
            channel = await self.mux.accept()
            if channel.kind != "session":
                await channel.close(f"unknown channel kind {channel.kind!r}")
                continue
            task = asyncio.create_task(self.on_session(channel))
            self._channel_tasks.add(task)
            task.add_done_callback(self._channel_tasks.discard)

    async def _read_control(self, control: Channel) -> None:
        while True:
            message = p.parse_server_message(await control.recv_message())
            if isinstance(message, p.Job):
                await self.on_job(message)
            elif self._rotated is not None and not self._rotated.done():
                self._rotated.set_result(message.certificate_pem)

    async def _heartbeats(self, control: Channel) -> None:
        while True:
            stats = self.spool.stats()
            spool = p.SpoolState(items=stats.count, bytes=stats.bytes, full=stats.full)
            await control.send_message(p.Heartbeat(spool=spool).model_dump(mode="json"))
            await asyncio.sleep(self.welcome.heartbeat)

    async def _rotate(self, control: Channel) -> None:
        """Replace the key and certificate once two thirds of the certificate's life has passed."""
        while True:
            if self.identity.needs_rotation(datetime.now(UTC)):
                await self._rotate_once(control)
            lifetime = (
                self.identity.certificate.not_valid_after_utc - self.identity.certificate.not_valid_before_utc
            )
            await asyncio.sleep(min(3600.0, lifetime.total_seconds() / 20))

    async def _rotate_once(self, control: Channel) -> None:
        key = generate_key()
        self._rotated = asyncio.get_running_loop().create_future()
        csr = make_csr(key, self.identity.host_id).decode()
        await control.send_message(p.Rotate(csr_pem=csr).model_dump(mode="json"))
        certificate = await asyncio.wait_for(self._rotated, 60.0)
        self.identity = self.identity.with_certificate(certificate, key)
        self.identity.save(self.state_dir)
        log.info("credentials rotated; the new certificate expires %s", self.identity.expires_at)

    async def _deliver(self) -> None:
        while True:
            items = self.spool.lease(1, LEASE_SECONDS)
            if not items:
                self.spooled.clear()
                await _wait(self.spooled, IDLE_POLL)
                continue
            await self._deliver_one(items[0])

    async def _deliver_one(self, item: SpoolItem) -> None:
        meta = p.ResultMeta(
            id=item.id, kind=item.kind, size=item.size, sha256=hashlib.sha256(item.payload).hexdigest()
        )
        try:
            ack = await asyncio.wait_for(self._send_result(meta, item.payload), DELIVERY_TIMEOUT)
        except BaseException:
            self.spool.unlease([item.id])
            raise
        if ack.status == "retry":
            self.spool.release([item.id])
            return
        if ack.status == "rejected":
            log.error("the server refused result %s (%s): %s; dropping it", item.id, item.kind, ack.error)
        self.spool.ack([item.id])

    async def _send_result(self, meta: p.ResultMeta, payload: bytes) -> p.ResultAck:
        channel = await self.mux.open("result", "bulk", meta.model_dump(mode="json"))
        await channel.send(payload)
        await channel.eof()
        ack = p.ResultAck.model_validate(await channel.recv_message())
        if ack.id != meta.id:
            raise AgentLinkError("the server acknowledged another result")
        return ack


async def _wait(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return
