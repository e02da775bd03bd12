"""The agent link endpoint: authenticate the agent, then serve its multiplexed channels.

Handshake: the server sends a random challenge; the agent answers with its certificate and a
signature over the challenge, its host id and this server's CA fingerprint. The certificate must
come from this CA, belong to a host that is not revoked, and be its current (or just rotated)
credential. Then the agent opens a "control" channel and one "result" channel per delivery.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from typing import Any

from fastapi import WebSocket
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from rampart.agent import protocol as p
from rampart.auth.proof import new_challenge, proof_message, verify_proof
from rampart.errors import AgentLinkError, AgentRevoked, RampartError
from rampart.link.channel import Channel
from rampart.link.mux import Mux
from rampart.link.transport import StarletteTransport
from rampart.server.agents import AgentConnection
from rampart.server.results import RESULT_HANDLERS, ResultRejected
from rampart.server.routes.enroll import public_pem
from rampart.server.state import ServerState
from rampart.store import hosts as host_store

log = logging.getLogger("rampart.server")
HANDSHAKE_TIMEOUT = 15.0
SEEN_WRITE_INTERVAL = 10.0
CLOSE_INTERNAL = 1011


async def agent_link(websocket: WebSocket) -> None:
    """Serve one agent's link until it closes, is revoked or misbehaves."""
    state: ServerState = websocket.app.state.rampart
    address = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    transport = StarletteTransport(websocket)
    try:
        host_id = await _handshake(state, transport)
    except (AgentLinkError, TimeoutError, RampartError) as error:
        why = getattr(error, "message", "handshake timed out")
        await run_in_threadpool(
            state.audit.append, "agent", "agent.link.deny", f"address:{address}", "deny", {"why": why[:200]}
        )
        code = p.CLOSE_REVOKED if isinstance(error, AgentRevoked) else p.CLOSE_UNAUTHORIZED
        await transport.close(code, why[:120])
        return
    await AgentSession(state, transport, host_id, address).serve()


async def _handshake(state: ServerState, transport: StarletteTransport) -> str:
    challenge = new_challenge()
    await transport.send(
        p.encode(p.Challenge(version=p.PROTOCOL_VERSION, challenge=base64.b64encode(challenge).decode()))
    )
    hello = p.decode(p.Hello, await asyncio.wait_for(transport.recv(), HANDSHAKE_TIMEOUT))
    await run_in_threadpool(verify_hello, state, hello, challenge)
    welcome = p.Welcome(
        host_id=hello.host_id,
        heartbeat=state.config.heartbeat_interval,
        scan_interval=state.config.scan_interval,
        keepalive=state.config.link_keepalive,
        dead_after=state.config.link_dead_after,
    )
    await transport.send(p.encode(welcome))
    return hello.host_id


def verify_hello(state: ServerState, hello: p.Hello, challenge: bytes) -> None:
    """Raise AgentLinkError unless the hello proves a live credential of a non-revoked host."""
    try:
        cert = state.ca.verify_agent_certificate(hello.certificate_pem.encode(), state.clock())
    except RampartError as error:
        raise AgentLinkError(f"certificate refused: {error.message}") from None
    if cert.host_id != hello.host_id:
        raise AgentLinkError("the certificate belongs to another host")
    with state.session() as session:
        host = host_store.get_host(session, hello.host_id)
    if host is None or host.revoked_at is not None:
        raise AgentRevoked("the host is revoked or unknown")
    if cert.serial_hex not in {host.cert_serial, host.previous_cert_serial}:
        raise AgentLinkError("the certificate was replaced by a newer one")
    message = proof_message(challenge, hello.host_id, state.trust_sha256)
    if not verify_proof(cert.public_key, message, _b64(hello.signature)):
        raise AgentLinkError("the proof of key possession does not verify")


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise AgentLinkError("the signature is not base64") from None


class AgentSession:
    """One authenticated link: its control channel, its deliveries, its registration."""

    def __init__(self, state: ServerState, transport: StarletteTransport, host_id: str, address: str) -> None:
        self.state, self.transport, self.host_id, self.address = state, transport, host_id, address
        config = state.config
        self.mux = Mux(
            transport,
            initiator=False,
            window=p.CHANNEL_WINDOW,
            keepalive=config.link_keepalive,
            dead_after=config.link_dead_after,
        )
        self.connection = AgentConnection(host_id, self._send_control, self._close, self.mux.open)
        self._control: Channel | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen_written = 0.0
        self._close_code = 1000

    async def serve(self) -> None:
        """Accept channels until the link ends; always unregister."""
        runner = asyncio.create_task(self.mux.run())
        await run_in_threadpool(self._audit, "agent.connect", {"address": self.address})
        try:
            await self._accept_channels()
        finally:
            self.state.agents.unregister(self.connection)
            for task in self._tasks:
                task.cancel()
            await self.mux.close("link ended")
            await asyncio.gather(runner, return_exceptions=True)
            await run_in_threadpool(self._audit, "agent.disconnect", {"address": self.address})

    async def _accept_channels(self) -> None:
        while not self.mux.closed.is_set():
            try:
                channel = await self.mux.accept()
            except RampartError:
                return
            task = asyncio.create_task(self._dispatch(channel))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, channel: Channel) -> None:
        try:
            if channel.kind == "control" and self._control is None:
                await self._serve_control(channel)
            elif channel.kind == "result":
                await self._receive_result(channel)
            else:
                await channel.close()
        except RampartError as error:
            if self.mux.closed.is_set():
                return
            log.warning("agent %s: %s", self.host_id, error.message)
            await self._close(f"protocol error: {error.message}"[:120], p.CLOSE_PROTOCOL)
        except Exception:  # a server fault must end the link visibly, never leave the agent waiting
            log.exception("agent %s: link failed", self.host_id)
            await self._close("internal server error", CLOSE_INTERNAL)

    async def _serve_control(self, channel: Channel) -> None:
        self._control = channel
        await self.state.agents.register(self.connection)
        await run_in_threadpool(self._mark_seen)
        while True:
            message = p.parse_agent_message(await channel.recv_message())
            await self._on_control(message)

    async def _on_control(self, message: p.Heartbeat | p.JobStatus | p.Rotate) -> None:
        if isinstance(message, p.Heartbeat):
            await run_in_threadpool(self._mark_seen)
        elif isinstance(message, p.Rotate):
            certificate = await run_in_threadpool(self._rotate, message.csr_pem)
            await self._send_control(p.Rotated(certificate_pem=certificate).model_dump(mode="json"))
        else:
            log.info("agent %s: job %s %s %s", self.host_id, message.job_id, message.state, message.error)

    async def _send_control(self, message: dict[str, Any]) -> None:
        if self._control is None:
            raise AgentLinkError("the agent has no control channel yet")
        await self._control.send_message(message)

    async def _close(self, reason: str, code: int | None = None) -> None:
        self._close_code = code or (p.CLOSE_REVOKED if reason == "revoked" else 1000)
        await self.mux.close(reason, code=self._close_code)

    def _mark_seen(self) -> None:
        now = time.monotonic()
        if now - self._seen_written < SEEN_WRITE_INTERVAL:
            return
        self._seen_written = now
        with self.state.session() as session:
            host_store.mark_seen(session, self.host_id, self.state.clock())

    def _rotate(self, csr_pem: str) -> str:
        state, now = self.state, self.state.clock()
        pem = state.ca.issue_agent_certificate(
            csr_pem.encode(), self.host_id, now, state.config.agent_cert_lifetime
        )
        cert = state.ca.verify_agent_certificate(pem, now)
        with state.session() as session:
            host_store.rotate_credential(
                session,
                self.host_id,
                public_key_pem=public_pem(cert.public_key),
                cert_serial=cert.serial_hex,
                cert_expires_at=cert.not_after,
            )
        self._audit("agent.rotate", {"serial": cert.serial_hex})
        return pem.decode()

    def _audit(self, action: str, details: dict[str, Any]) -> None:
        self.state.audit.append(f"host:{self.host_id}", action, f"host:{self.host_id}", "success", details)

    async def _receive_result(self, channel: Channel) -> None:
        try:
            meta = p.ResultMeta.model_validate(channel.meta)
        except ValidationError:
            await self._ack(channel, "-", "rejected", "bad result metadata")
            return
        data = await _read_all(channel, meta.size)
        status, error = await self._store(meta, data)
        await self._ack(channel, meta.id, status, error)

    async def _store(self, meta: p.ResultMeta, data: bytes) -> tuple[str, str]:
        handler = RESULT_HANDLERS.get(meta.kind)
        if handler is None:
            return "rejected", f"unknown result kind {meta.kind}"
        if len(data) != meta.size or hashlib.sha256(data).hexdigest() != meta.sha256:
            return "rejected", "the result's size or SHA-256 does not match its metadata"
        try:
            async with self.state.ingest_slots:
                status = await run_in_threadpool(handler, self.state, self.host_id, meta.id, data)
        except ResultRejected as error:
            return "rejected", error.message
        except Exception as error:  # the store failed (deadlock, pool, disk): the agent keeps it and retries
            log.warning("agent %s: result %s not stored yet: %s", self.host_id, meta.id, str(error)[:200])
            return "retry", "the server could not store it now"
        await run_in_threadpool(
            self._audit, "agent.result", {"result": meta.id, "kind": meta.kind, "status": status}
        )
        return status, ""

    async def _ack(self, channel: Channel, result_id: str, status: str, error: str) -> None:
        ack = p.ResultAck(id=result_id, status=status, error=error[:256])  # type: ignore[arg-type]
        await channel.send_message(ack.model_dump(mode="json"))
        await channel.close()


async def _read_all(channel: Channel, size: int) -> bytes:
    """Every byte the agent sends on the channel, refusing more than it announced."""
    parts: list[bytes] = []
    received = 0
    while chunk := await channel.recv():
        received += len(chunk)
        if received > size:
            raise AgentLinkError(f"result larger than its announced {size} bytes")
        parts.append(chunk)
    return b"".join(parts)
