"""`rampart agent run`: keep one outbound link to the server, run jobs on a schedule and on demand.

Scans run whether or not the server is reachable: their results wait in the durable spool and
are delivered when the link is back. Two schedules run side by side: the inventory scan, and the file
integrity check once a baseline exists (`rampart fim init` on the host). A baseline that vanishes after
the agent has seen it keeps its check scheduled, so the server hears of the loss as a refusal. Beside them,
a real-time watch of the baseline's tree (`rampart.agent.fimwatch`) runs the fim check soon after a change.
A third schedule runs the hardening profile (``harden_interval``; the server may also ask for a run, naming
another shipped profile).
The link reconnects with jittered exponential backoff; a revoked agent stops with an error (it must enroll
again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from rampart import __version__
from rampart.agent import protocol as p
from rampart.agent.backoff import Backoff
from rampart.agent.fimwatch import Debounced, FimWatch
from rampart.agent.identity import AgentIdentity
from rampart.agent.jobs import DEFAULT_HARDEN_PROFILE, JOBS, JobContext, fim_paths
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
LAST_FIM_FILE = "last-fim-check"
FIM_SEEN_FILE = "fim-baseline-seen"
LAST_HARDEN_FILE = "last-harden"
STAMP_FILES = {"inventory": LAST_SCAN_FILE, "fim": LAST_FIM_FILE, "harden": LAST_HARDEN_FILE}
MAX_PROFILE_ID = 80
WS_MAX_MESSAGE = 80 * 1024
RECONNECT = Backoff(base=1.0, cap=60.0)


@dataclass(frozen=True)
class AgentSettings:
    """How the agent runs: where its state lives, what it scans, how often, and its spool bounds.

    ``fim_interval`` is in seconds (0 turns the scheduled file integrity check off); ``fim_baseline`` and
    ``fim_verify_key`` default to `rampart fim`'s paths. ``fim_watch`` watches the baseline's tree (inotify)
    once a baseline exists and runs the check soon after a change, at most once every
    ``fim_watch_debounce`` seconds. ``harden_interval`` is in seconds (0, the default here: hardening runs
    only on request; `rampart agent run` asks for daily runs); ``harden_profile`` names the shipped profile
    it runs, ``harden_tailoring`` a tailoring file for that profile.
    """

    state_dir: Path
    root: Path = Path("/")
    scan_interval: float | None = None
    spool_max_bytes: int = 512 * 1024 * 1024
    spool_max_items: int = 10_000
    scan_workers: int | None = None
    fim_baseline: Path | None = None
    fim_verify_key: Path | None = None
    fim_interval: float = 3600.0
    fim_watch: bool = True
    fim_watch_debounce: float = 5.0
    harden_interval: float = 0.0
    harden_profile: str = DEFAULT_HARDEN_PROFILE
    harden_tailoring: Path | None = None


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
        self.fim_trigger = Debounced(lambda: self.run_job("fim"), settings.fim_watch_debounce)
        self.sessions = SessionHost()

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; raises AgentLinkError when the server revoked this host."""
        watch, watch_stop = self.fim_watch(), asyncio.Event()
        watching = [asyncio.create_task(watch.run(watch_stop))] if watch is not None else []
        scheduler = asyncio.create_task(self._schedule())
        linked = asyncio.create_task(self._keep_linked(stop))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({linked, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch_stop.set()  # the watcher stops itself (its watches and index released), not cancelled
            for task in (scheduler, linked, stopped):
                task.cancel()
            await asyncio.gather(scheduler, linked, stopped, *watching, return_exceptions=True)
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
        asyncio.get_running_loop().create_task(self.run_job(job.kind, job.job_id, job.params))

    async def run_job(
        self, kind: str, job_id: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        """Run one job (one at a time) and spool its result; ``params`` are the server's (a harden profile)."""
        runner = JOBS.get(kind)
        if runner is None:
            log.warning("unknown job kind %r ignored", kind)
            return
        async with self._job_lock:
            if kind == "fim":
                self.fim_trigger.started()  # this check covers the changes noticed so far
            result = await asyncio.to_thread(runner, self._context(job_id, params or {}))
            self._mark(kind)  # a full spool too: the next run waits its interval rather than looping
            try:
                self.spool.put(result.kind, result.payload, item_id=result.id)
            except SpoolFull as error:
                log.error("result of job %s not kept: %s", kind, error.message)
                return
            self.spooled.set()

    def _context(self, job_id: str | None, params: Mapping[str, Any] | None = None) -> JobContext:
        settings = self.settings
        profile, tailoring = harden_choice(settings, (params or {}).get("profile"))
        return JobContext(
            settings.root,
            job_id,
            settings.scan_workers,
            settings.fim_baseline,
            settings.fim_verify_key,
            harden_profile=profile,
            harden_tailoring=tailoring,
        )

    async def _schedule(self) -> None:
        while True:
            wait = await self.run_due()
            if wait > 0:
                await asyncio.sleep(min(wait, 60.0))

    async def run_due(self) -> float:
        """Run one scheduled job that is due (then 0.0, inventory first); else the seconds until one is."""
        last_runs = {kind: self._last_run(kind) for kind in STAMP_FILES}
        kind, wait = next_due(self.scheduled(), last_runs, time.time())
        if wait > 0:
            return wait
        try:
            await self.run_job(kind)
        except RampartError as error:
            log.error("scheduled %s job failed: %s", kind, error.message)
            self._mark(kind)
        except Exception:
            log.exception("scheduled %s job failed", kind)
            self._mark(kind)
        return 0.0

    def scheduled(self) -> dict[str, float]:
        """The job kinds run on a schedule, with their intervals in seconds."""
        intervals = {"inventory": self.scan_interval}
        if self.settings.fim_interval > 0 and self._fim_expected():
            intervals["fim"] = self.settings.fim_interval
        if self.settings.harden_interval > 0:
            intervals["harden"] = self.settings.harden_interval
        return intervals

    def fim_watch(self) -> FimWatch | None:
        """The real-time watch of the fim baseline's tree: when ``fim_watch`` is on and a baseline exists
        (or did once: the watch then logs why it cannot start)."""
        if not self.settings.fim_watch or not self._fim_expected():
            return None
        baseline, verify_key = fim_paths(self._context(None))
        return FimWatch(baseline, verify_key, self.fim_trigger, self.settings.scan_workers)

    def _fim_expected(self) -> bool:
        """A baseline exists, or did once (its loss is reported rather than silently ending the checks)."""
        baseline, _ = fim_paths(self._context(None))
        seen = self.settings.state_dir / FIM_SEEN_FILE
        if baseline.exists() or baseline.is_symlink():
            if not seen.exists():
                seen.write_text(f"{baseline}\n")
            return True
        return seen.exists()

    def _last_run(self, kind: str) -> float:
        try:
            return float((self.settings.state_dir / STAMP_FILES[kind]).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def _mark(self, kind: str) -> None:
        if kind in STAMP_FILES:
            (self.settings.state_dir / STAMP_FILES[kind]).write_text(f"{time.time():.3f}\n")


def harden_choice(settings: AgentSettings, requested: object) -> tuple[str, Path | None]:
    """The profile (and tailoring file) a harden job runs: the configured ones, or the shipped profile the
    server named (a text up to 80 characters; the job refuses names that are not shipped profiles)."""
    if not isinstance(requested, str) or not requested or requested == settings.harden_profile:
        return settings.harden_profile, settings.harden_tailoring
    return requested[:MAX_PROFILE_ID], None


def next_due(intervals: Mapping[str, float], last_runs: Mapping[str, float], now: float) -> tuple[str, float]:
    """The first kind (in ``intervals``' order) that is due, with how overdue it is (<= 0); else the kind
    due soonest and the seconds until it is."""
    waits = {kind: last_runs.get(kind, 0.0) + interval - now for kind, interval in intervals.items()}
    due = [kind for kind, wait in waits.items() if wait <= 0]
    kind = due[0] if due else min(waits, key=waits.__getitem__)
    return kind, waits[kind]


def link_url(server_url: str) -> str:
    """The WebSocket URL of the agent link for a server URL."""
    base = server_url.rstrip("/")
    return "wss://" + base.removeprefix("https://") + "/api/v1/agent/link"


def _raise_if_revoked(code: int | None, reason: str | None) -> None:
    if code == p.CLOSE_REVOKED:
        raise AgentRevoked(f"the server revoked this host ({reason or 'revoked'}); enroll it again")
    if code is not None and code != 1000:
        log.warning("the server closed the link: %s %s", code, reason or "")
