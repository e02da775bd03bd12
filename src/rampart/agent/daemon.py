"""`rampart agent run`: keep one outbound link to the server, run jobs on a schedule and on demand.

Scans run whether or not the server is reachable: their results wait in the durable spool and
are delivered when the link is back. The link reconnects with jittered exponential backoff; a
revoked agent stops with an error (it must enroll again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import websockets

from rampart import __version__
from rampart.agent import protocol as p
from rampart.agent.backoff import Backoff
from rampart.agent.identity import AgentIdentity
from rampart.agent.jobs import JOBS, JobContext
from rampart.agent.session import LinkSession, handshake
from rampart.agent.session_host import SessionHost
from rampart.agent.spool import Spool
from rampart.errors import AgentLinkError, AgentRevoked, RampartError, SpoolFull
from rampart.link.mux import Mux
from rampart.link.transport import WebSocketsTransport
from rampart.pki.tlsconfig import client_context

log = logging.getLogger("rampart.agent")
SPOOL_FILE = "spool.sqlite3"
LAST_SCAN_FILE = "last-scan"
WS_MAX_MESSAGE = 80 * 1024
RECONNECT = Backoff(base=1.0, cap=60.0)


@dataclass(frozen=True)
class AgentSettings:
    """How the agent runs: where its state lives, what it scans, how often, and its spool bounds."""

    state_dir: Path
    root: Path = Path("/")
    scan_interval: float | None = None
    spool_max_bytes: int = 512 * 1024 * 1024
    spool_max_items: int = 10_000
    scan_workers: int | None = None


class Agent:
    """The daemon: a scheduler that fills the spool and a link that empties it."""

    def __init__(self, settings: AgentSettings, identity: AgentIdentity) -> None:
        self.settings, self.identity = settings, identity
        self.spool = Spool.open(
            settings.state_dir / SPOOL_FILE, settings.spool_max_bytes, settings.spool_max_items, time.time
        )
        self.spool.reset_leases()
        self.spooled = asyncio.Event()
        self.scan_interval = settings.scan_interval or 6 * 3600.0
        self._job_lock = asyncio.Lock()
        self.sessions = SessionHost()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; raises AgentLinkError when the server revoked this host."""
        scheduler = asyncio.create_task(self._schedule())
        linked = asyncio.create_task(self._keep_linked(stop))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({linked, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (scheduler, linked, stopped):
                task.cancel()
            await asyncio.gather(scheduler, linked, stopped, return_exceptions=True)
            await self.sessions.stop_all("the agent is stopping")
            self.spool.close()
        if linked.done() and not linked.cancelled() and linked.exception() is not None:
            raise linked.exception()  # type: ignore[misc]

    async def _keep_linked(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            started = time.monotonic()
            await self._connect_once()
            attempt = 1 if time.monotonic() - started > 60 else attempt + 1
            delay = RECONNECT.delay(attempt, random.random())  # noqa: S311 - jitter, not a secret
            log.info("reconnecting in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _connect_once(self) -> None:
        url = link_url(self.identity.server_url)
        try:
            async with websockets.connect(
                url,
                ssl=client_context(self.identity.ca_pem),
                max_size=WS_MAX_MESSAGE,
                ping_interval=None,
                compression=None,
                open_timeout=20,
                close_timeout=5,
            ) as ws:
                await self._serve_logged(WebSocketsTransport(ws))
            _raise_if_revoked(ws.close_code, ws.close_reason)
        except (OSError, websockets.WebSocketException, TimeoutError) as error:
            log.warning("link to %s failed: %s", url, error)

    async def _serve_logged(self, transport: WebSocketsTransport) -> None:
        try:
            await self._serve(transport)
        except AgentRevoked:
            raise
        except AgentLinkError as error:
            log.warning("link refused: %s", error.message)
        except BaseExceptionGroup as group:
            for inner in group.exceptions:
                log.warning("link ended: %s", getattr(inner, "message", inner))
        except RampartError as error:
            log.warning("link ended: %s", error.message)

    async def _serve(self, transport: WebSocketsTransport) -> None:
        welcome = await handshake(transport, self.identity, __version__)
        if self.settings.scan_interval is None:
            self.scan_interval = welcome.scan_interval
        mux = Mux(
            transport,
            initiator=True,
            window=p.CHANNEL_WINDOW,
            keepalive=welcome.keepalive,
            dead_after=welcome.dead_after,
        )
        runner = asyncio.create_task(mux.run())
        session = LinkSession(
            mux,
            welcome,
            self.identity,
            self.settings.state_dir,
            self.spool,
            self.spooled,
            self._on_job,
            self.sessions.accept,
        )
        log.info("linked to %s as %s", self.identity.server_url, self.identity.host_id)
        try:
            await session.serve()
        finally:
            self.identity = session.identity
            runner.cancel()
            if mux.close_reason == "closed by peer: revoked":
                raise AgentRevoked("the server revoked this host; enroll it again")

    async def _on_job(self, job: p.Job) -> None:
        asyncio.get_running_loop().create_task(self.run_job(job.kind, job.job_id))

    async def run_job(self, kind: str, job_id: str | None = None) -> None:
        """Run one job (one at a time) and spool its result."""
        runner = JOBS.get(kind)
        if runner is None:
            log.warning("unknown job kind %r ignored", kind)
            return
        async with self._job_lock:
            context = JobContext(self.settings.root, job_id, self.settings.scan_workers)
            result = await asyncio.to_thread(runner, context)
            try:
                self.spool.put(result.kind, result.payload, item_id=result.id)
            except SpoolFull as error:
                log.error("result of job %s not kept: %s", kind, error.message)
                return
            self._mark_scanned()
            self.spooled.set()

    async def _schedule(self) -> None:
        while True:
            wait = self._last_scan() + self.scan_interval - time.time()
            if wait <= 0:
                try:
                    await self.run_job("inventory")
                except RampartError as error:
                    log.error("scheduled scan failed: %s", error.message)
                    self._mark_scanned()
                continue
            await asyncio.sleep(min(wait, 60.0))

    def _last_scan(self) -> float:
        try:
            return float((self.settings.state_dir / LAST_SCAN_FILE).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def _mark_scanned(self) -> None:
        (self.settings.state_dir / LAST_SCAN_FILE).write_text(f"{time.time():.3f}\n")


def link_url(server_url: str) -> str:
    """The WebSocket URL of the agent link for a server URL."""
    base = server_url.rstrip("/")
    return "wss://" + base.removeprefix("https://") + "/api/v1/agent/link"


def _raise_if_revoked(code: int | None, reason: str | None) -> None:
    if code == p.CLOSE_REVOKED:
        raise AgentRevoked(f"the server revoked this host ({reason or 'revoked'}); enroll it again")
    if code is not None and code != 1000:
        log.warning("the server closed the link: %s %s", code, reason or "")
