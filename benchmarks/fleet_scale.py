"""Benchmark: one real `rampart server` with 1,000 simulated agents — memory per idle link, ingest, re-match.

Per database (SQLite, then PostgreSQL; a fresh database and data directory each):

1. The server starts as `tests/integration/fleet.py` starts it (a child process, TLS on loopback, the Debian OSV
   advisories imported into its data directory with `rampart --cache-dir DATA_DIR db import`, and
   ``--rematch-check`` so large that re-matching happens only when asked).
2. 1,000 hosts are written straight into the store, each with a key of its own and a certificate issued by the
   server's CA (``DATA_DIR/pki``): enrolling through the API would take a quarter of an hour, as enrollment is
   rate-limited to 60 a minute per address.
3. 1,000 agents run on this process's one asyncio loop, each with a WebSocket link of its own: the real TLS
   client context, `rampart.agent.session.handshake`, a `Mux` and the real `LinkSession` (control channel,
   heartbeats, deliveries) over an in-memory spool. Memory per idle agent = (server VmRSS with 1,000 idle,
   heartbeating links - VmRSS with none) / 1,000.
4. Every agent spools one 1,000-package Debian 11 inventory (`build_inventory`, built before the clock starts)
   and `LinkSession` delivers it; the rate runs until the server has acknowledged all 1,000 as stored.
5. ``POST /api/v1/advisories/rematch`` re-judges the 1,000 hosts x 1,000 packages (median of ``--runs``).

Packages are real (name, version) pairs: every source package the Debian advisories name, at a version some
advisory fixed it in (for the 191 packages with Debian 11 advisories, one of their bullseye fixes, so some still
match later advisories), plus this machine's installed dpkg packages. Every host has the same ``--shared``
packages plus a random draw from the rest of the pool, one version per name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import shutil
import statistics
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib
import httpx
import orjson
import websockets
from sqlalchemy import text

from rampart import __version__
from rampart.agent import protocol as p
from rampart.agent.daemon import WS_MAX_MESSAGE, link_url
from rampart.agent.identity import AgentIdentity, generate_key, make_csr
from rampart.agent.session import LinkSession, handshake
from rampart.agent.spool import SpoolItem, SpoolStats
from rampart.fleet.inventory import build_inventory
from rampart.link.mux import Mux
from rampart.link.transport import WebSocketsTransport
from rampart.model import OsRelease, Package
from rampart.pki.ca import CertificateAuthority
from rampart.pki.tlsconfig import client_context
from rampart.pki.tlsfiles import pki_dir
from rampart.server.routes.enroll import public_pem
from rampart.store import hosts as host_store
from rampart.store.engine import make_engine, session_factory, sqlite_url, write_session

sys.path.insert(0, str(benchlib.REPO / "tests"))  # the tests' helpers: reach PostgreSQL, run a server
from fixtures.databases import postgres_server_url
from integration.fleet import Server, free_port

HEADING = "Fleet scale: 1,000 agents on one server"
MAX_KB_PER_AGENT = 100.0
MAX_REMATCH_PG_S = 10.0
ECOSYSTEM = "Debian:11"
OS = OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)")
DPKG_STATUS = Path("/var/lib/dpkg/status")
NEVER = "1000000000"  # --rematch-check seconds: re-match only when asked
Pair = tuple[str, str, str, str]  # name, version, source name, source version


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchlib.common_arguments(parser, runs=3)
    parser.add_argument("--agents", type=int, default=1000, help="simulated agents (default 1000)")
    parser.add_argument("--packages", type=int, default=1000, help="packages per inventory (default 1000)")
    parser.add_argument("--shared", type=int, default=700, help="packages every host has (default 700)")
    parser.add_argument("--pool", type=int, default=3000, help="package pool size, at most (default 3000)")
    parser.add_argument("--idle", type=float, default=45.0, help="seconds of idle links before sampling")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--connect-parallel", type=int, default=50, help="links being set up at once")
    parser.add_argument(
        "--ingest-parallel", type=int, default=0, help="deliveries in flight at once (0: all)"
    )
    parser.add_argument(
        "--stall", type=float, default=120.0, help="seconds without an ack that end the ingest"
    )
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args()


# --- the package pool and the inventories ------------------------------------------------------


def advisory_pairs(debian_zip: Path) -> list[Pair]:
    """One real (name, version) per source package the Debian advisories name; bullseye fixes first."""
    fixed: dict[str, dict[str, list[str]]] = {}
    with zipfile.ZipFile(debian_zip) as archive:
        for member in sorted(archive.namelist()):
            record = orjson.loads(archive.read(member))
            for affected in record.get("affected", []):
                release, name = affected["package"]["ecosystem"], affected["package"]["name"]
                versions = fixed.setdefault(name, {}).setdefault(release, [])
                versions += [
                    e["fixed"] for r in affected.get("ranges", []) for e in r["events"] if "fixed" in e
                ]
    rng = random.Random(0)
    pairs = []
    for name, releases in sorted(fixed.items()):
        if releases.get(ECOSYSTEM):
            version = rng.choice(releases[ECOSYSTEM])
        else:
            newest = max((r for r in releases if releases[r]), key=_release_number, default=None)
            if newest is None:
                continue
            version = releases[newest][-1]
        pairs.append((name, version, name, version))
    return pairs


def _release_number(release: str) -> float:
    return float(release.split(":")[1])


def installed_pairs(status: Path = DPKG_STATUS) -> list[Pair]:
    """This machine's installed dpkg packages (real Debian pairs, with their Source: fields)."""
    if not status.exists():
        return []
    pairs = []
    for stanza in status.read_text(errors="replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if "Package" not in fields or "Version" not in fields:
            continue
        source, _, source_version = fields.get("Source", fields["Package"]).partition(" ")
        version = source_version.strip("()") or fields["Version"]
        pairs.append((fields["Package"], fields["Version"], source, version))
    return pairs


def package_pool(debian_zip: Path, size: int) -> list[Pair]:
    """Up to `size` pairs, one per package name."""
    by_name: dict[str, Pair] = {}
    for pair in [*advisory_pairs(debian_zip), *installed_pairs()]:
        by_name.setdefault(pair[0], pair)
    return list(by_name.values())[:size]


def host_packages(pool: list[Pair], shared: int, count: int, rng: random.Random) -> list[Package]:
    """The `shared` first pool entries plus a random draw from the rest: `count` packages."""
    chosen = pool[:shared] + rng.sample(pool[shared:], count - shared)
    return [Package(n, v, ECOSYSTEM, "/var/lib/dpkg/status", "dpkg", sn, sv) for n, v, sn, sv in chosen]


def inventories(pool: list[Pair], args: argparse.Namespace) -> list[tuple[str, bytes]]:
    """One (result id, payload) per agent, as the agent's inventory job builds them."""
    rng = random.Random(args.seed)
    shuffled = rng.sample(pool, len(pool))
    out = []
    for _ in range(args.agents):
        result_id = str(uuid.uuid4())
        packages = host_packages(shuffled, args.shared, args.packages, rng)
        out.append((result_id, build_inventory(packages, OS, [], [], result_id, None, datetime.now(UTC))))
    return out


# --- process facts -------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuWindow:
    """CPU use of the server, of this process and of the whole machine over a phase."""

    pid: int
    started: float = field(default_factory=time.perf_counter)
    server: float = 0.0
    me: float = field(default_factory=time.process_time)
    machine: tuple[float, float] = field(default_factory=machine_busy)

    def __post_init__(self) -> None:
        self.server = cpu_seconds(self.pid)

    def shares(self) -> dict[str, float]:
        """Cores used on average: server, benchmark, whole machine."""
        wall = time.perf_counter() - self.started
        busy, total = machine_busy()
        cores = os.cpu_count() or 1
        return {
            "server": (cpu_seconds(self.pid) - self.server) / wall,
            "bench": (time.process_time() - self.me) / wall,
            "machine": cores * (busy - self.machine[0]) / max(total - self.machine[1], 1),
        }


# --- the server and its hosts ------------------------------------------------------------------


def create_pg_database() -> str:
    import psycopg
    from psycopg import sql

    server, name = postgres_server_url(), f"rampart_bench_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.rpartition("/")[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
        name = sql.Identifier(url.rpartition("/")[2])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def enroll_hosts(server: Server, database_url: str, count: int) -> list[AgentIdentity]:
    """`count` hosts written into the store, each with its own key and a certificate from the server's CA."""
    ca = CertificateAuthority.load(pki_dir(server.data_dir))
    engine = make_engine(database_url)
    now, identities = datetime.now(UTC), []
    with write_session(session_factory(engine)) as session:
        for index in range(count):
            key, host_id = generate_key(), "h-" + secrets.token_hex(8)
            pem = ca.issue_agent_certificate(
                make_csr(key, f"bench-{index:04d}"), host_id, now, timedelta(days=7)
            )
            cert = ca.verify_agent_certificate(pem, now)
            host_store.add_host(
                session,
                host_id=host_id,
                hostname=f"bench-{index:04d}",
                os_id="debian",
                os_version="11",
                os_pretty=OS.pretty_name,
                agent_version=__version__,
                tags={"bench": "fleet"},
                enrolled_at=now,
                public_key_pem=public_pem(cert.public_key),
                cert_serial=cert.serial_hex,
                cert_expires_at=cert.not_after,
            )
            identities.append(AgentIdentity(host_id, server.url, server.ca_pem, pem.decode(), key))
    engine.dispose()
    return identities


def query(database_url: str, sql: str) -> Any:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def wait_for_build(database_url: str, timeout: float = 60.0) -> None:
    """The start-up re-match (of an empty fleet) has recorded the advisory build: ingest judges against it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(database_url, "SELECT value FROM fleet_state WHERE key = 'advisory_build'"):
            return
        time.sleep(0.5)
    sys.exit("benchmark: the server never recorded its advisory build")


@contextlib.contextmanager
def running_server(args: argparse.Namespace, kind: str) -> Iterator[tuple[Server, str, dict[str, float]]]:
    """An initialised server with the Debian advisories, started; its database URL and setup times."""
    folder = args.scratch / "fleet-scale" / kind
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database_url = create_pg_database() if kind == "postgresql" else None
    server = Server(folder / "data", "127.0.0.1", free_port(), database_url, extra=("--rematch-check", NEVER))
    try:
        server.init()
        started = time.perf_counter()
        debian = args.vulndata / "osv" / "Debian" / "all.zip"
        half = every_other_record(debian, folder / "debian-half.zip")
        import_into(server.data_dir, half, folder / "db-import.log")
        import_into(folder / "full", debian, folder / "db-import-full.log")
        setup = {"import": time.perf_counter() - started}
        yield server, database_url or sqlite_url(server.data_dir), setup

    finally:
        server.stop()
        if database_url:
            drop_pg_database(database_url)


def every_other_record(source: Path, target: Path) -> Path:
    """The Debian export with every second record left out: the "before the update" database."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for index, member in enumerate(old.infolist()):
            if index % 2 == 0:
                new.writestr(member, old.read(member))
    return target


def import_into(cache: Path, archive: Path, log: Path) -> None:
    done = benchlib.run_measured(benchlib.rampart(cache, "db", "import", str(archive)), log)
    benchlib.check(done, "rampart db import", log)


def swap_advisories(server: Server, source: Path) -> None:
    """Replace the server's advisory database the way `db update` does: a new file moved into place."""
    staged = server.data_dir / "advisories.sqlite3.bench"
    shutil.copyfile(source, staged)
    os.replace(staged, server.data_dir / "advisories.sqlite3")


def measure_update(api: Api, server: Server) -> dict[str, Any]:
    """Re-match after the full database replaces the half one (findings open), then back (they close)."""
    folder = server.data_dir.parent
    shutil.copyfile(server.data_dir / "advisories.sqlite3", folder / "half.sqlite3")
    results = {}
    for label, source in (
        ("update", folder / "full" / "advisories.sqlite3"),
        ("withdrawal", folder / "half.sqlite3"),
    ):
        swap_advisories(server, source)
        wall, answer = api.rematch()
        print(
            f"  re-match after the {label}: {wall:.2f} s, opened {answer['opened']}, closed {answer['closed']}",
            flush=True,
        )
        results[label] = {"wall": wall, **answer}
    return results


# --- simulated agents ----------------------------------------------------------------------------


class MemorySpool:
    """The agent spool's interface, in memory, recording when and how each result was acknowledged."""

    def __init__(self) -> None:
        self.items: dict[str, SpoolItem] = {}
        self.leased: set[str] = set()
        self.acks: dict[str, tuple[str, str, float]] = {}

    def put(self, result_id: str, payload: bytes) -> None:
        self.items[result_id] = SpoolItem(result_id, "inventory", payload, len(payload), time.time())

    def stats(self) -> SpoolStats:
        size = sum(item.size for item in self.items.values())
        return SpoolStats(len(self.items), size, len(self.leased), None, 10_000, 512 << 20, False)

    def lease(self, limit: int, seconds: float) -> list[SpoolItem]:
        free = [item for key, item in self.items.items() if key not in self.leased][:limit]
        self.leased.update(item.id for item in free)
        return free

    def unlease(self, ids: list[str]) -> None:
        self.leased.difference_update(ids)

    def ack(self, ids: list[str]) -> None:
        for result_id in ids:
            self.items.pop(result_id, None)
            self.leased.discard(result_id)


class BenchLinkSession(LinkSession):
    """The real LinkSession; it also notes each acknowledgement's status and time, and may share a limit
    on deliveries in flight with the other agents."""

    gate: asyncio.Semaphore | None = None

    async def _send_result(self, meta: p.ResultMeta, payload: bytes) -> p.ResultAck:
        async with self.gate or contextlib.nullcontext():
            ack = await super()._send_result(meta, payload)
        self.spool.acks[ack.id] = (ack.status, ack.error, time.perf_counter())  # type: ignore[attr-defined]
        return ack


@dataclass
class SimAgent:
    """One agent: its identity, its link, its spool."""

    identity: AgentIdentity
    scratch: Path
    spool: MemorySpool = field(default_factory=MemorySpool)
    spooled: asyncio.Event = field(default_factory=asyncio.Event)
    linked: asyncio.Event = field(default_factory=asyncio.Event)
    session: BenchLinkSession | None = None
    error: str | None = None

    async def run(self, ssl_context: Any, gate: asyncio.Semaphore) -> None:
        try:
            await self._run(ssl_context, gate)
        except BaseException as error:
            if not isinstance(error, asyncio.CancelledError):
                self.error = f"{type(error).__name__}: {error}"[:300]
        finally:
            self.linked.set()

    async def _run(self, ssl_context: Any, gate: asyncio.Semaphore) -> None:
        async with gate:
            ws = await websockets.connect(
                link_url(self.identity.server_url),
                ssl=ssl_context,
                max_size=WS_MAX_MESSAGE,
                ping_interval=None,
                compression=None,
                open_timeout=120,
                close_timeout=5,
            )
            transport = WebSocketsTransport(ws)
            try:
                welcome = await handshake(transport, self.identity, __version__)
            except BaseException:
                await ws.close()
                raise
        async with ws:
            mux = Mux(transport, initiator=True)
            runner = asyncio.create_task(mux.run())
            self.session = BenchLinkSession(
                mux,
                welcome,
                self.identity,
                self.scratch,
                self.spool,
                self.spooled,
                self._on_job,  # type: ignore[arg-type]
            )
            self.linked.set()
            try:
                await self.session.serve()
            finally:
                runner.cancel()

    async def _on_job(self, job: p.Job) -> None:
        """Jobs are not run here."""

    async def close(self) -> None:
        """Close the link as the agent does at exit; the agent's `runner.cancel()` may cut the mux's own
        shutdown short, so the wait is bounded."""
        if self.session is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.session.mux.close("benchmark done"), 10)


class Fleet:
    """The simulated agents on this loop."""

    def __init__(self, identities: list[AgentIdentity], scratch: Path, parallel: int) -> None:
        self.agents = [SimAgent(identity, scratch) for identity in identities]
        self.tasks: list[asyncio.Task[None]] = []
        self.gate = asyncio.Semaphore(parallel)
        self.ssl = client_context(identities[0].ca_pem) if identities else None

    async def connect(self) -> float:
        """Start every agent; seconds until each has its link (or failed)."""
        started = time.perf_counter()
        self.tasks = [asyncio.create_task(agent.run(self.ssl, self.gate)) for agent in self.agents]
        await asyncio.gather(*(agent.linked.wait() for agent in self.agents))
        return time.perf_counter() - started

    def errors(self) -> list[str]:
        return [agent.error for agent in self.agents if agent.error]

    async def close(self) -> None:
        await asyncio.gather(*(agent.close() for agent in self.agents), return_exceptions=True)
        _, pending = await asyncio.wait(self.tasks, timeout=30) if self.tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def deliver(self, payloads: list[tuple[str, bytes]], stall: float) -> float:
        """Spool one inventory per agent; seconds until every one is acknowledged, or until none has
        been for `stall` seconds (a delivery the server never answers hangs its agent for good)."""
        started = time.perf_counter()
        for agent, (result_id, payload) in zip(self.agents, payloads, strict=True):
            agent.spool.put(result_id, payload)
            agent.spooled.set()
        seen, progress = -1, time.perf_counter()
        while self.pending() and time.perf_counter() - progress < stall:
            await asyncio.sleep(0.2)
            if self.acked() != seen:
                seen, progress = self.acked(), time.perf_counter()
        done = [ack[2] for agent in self.agents for ack in agent.spool.acks.values()]
        return (max(done) if done else time.perf_counter()) - started

    def acked(self) -> int:
        return sum(len(agent.spool.acks) for agent in self.agents)

    def pending(self) -> int:
        return sum(1 for agent in self.agents if agent.spool.items and not agent.error)

    def hung(self) -> list[int]:
        """Agents whose delivery is still unanswered."""
        return [n for n, agent in enumerate(self.agents) if agent.spool.items or agent.error]

    async def retry(self, indices: list[int], payloads: list[tuple[str, bytes]], stall: float) -> float:
        """New links for the hung agents, delivering their inventories again one at a time; seconds taken."""
        started = time.perf_counter()
        await asyncio.gather(*(self.agents[n].close() for n in indices))
        for index in indices:
            self.agents[index] = SimAgent(self.agents[index].identity, self.agents[index].scratch)
        fresh = Fleet([], Path("."), 1)
        fresh.agents, fresh.ssl = [self.agents[n] for n in indices], self.ssl
        self.tasks += [asyncio.create_task(a.run(self.ssl, self.gate)) for a in fresh.agents]
        await asyncio.gather(*(a.linked.wait() for a in fresh.agents))
        BenchLinkSession.gate, previous = asyncio.Semaphore(1), BenchLinkSession.gate
        try:
            await fresh.deliver([payloads[n] for n in indices], stall)
        finally:
            BenchLinkSession.gate = previous
        return time.perf_counter() - started

    def statuses(self) -> dict[str, int]:
        """Acknowledgements by status."""
        counts: dict[str, int] = {}
        for agent in self.agents:
            for status, _, _ in agent.spool.acks.values():
                counts[status] = counts.get(status, 0) + 1
        return counts


# --- the measurements ------------------------------------------------------------------------------


class Api:
    """The admin's view of the server over HTTPS."""

    def __init__(self, server: Server) -> None:
        self.client = server.client(server.login())
        self.client.timeout = httpx.Timeout(600.0)

    def connected(self) -> int:
        return sum(1 for host in self.client.get("/hosts").json() if host["connected"])

    def host_connected(self, host_id: str) -> bool:
        return bool(self.client.get(f"/hosts/{host_id}").json().get("connected"))

    def rematch(self) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        answer = self.client.post("/advisories/rematch")
        if answer.status_code != 200:
            sys.exit(f"benchmark: re-match failed: {answer.status_code} {answer.text[:300]}")
        return time.perf_counter() - started, answer.json()


async def wait_until(check: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(1.0)
    sys.exit(f"benchmark: timed out waiting for {what}")


async def sample_rss(pid: int, seconds: float, every: float = 1.0) -> list[int]:
    samples = []
    for _ in range(max(1, int(seconds / every))):
        samples.append(rss_kb(pid))
        await asyncio.sleep(every)
    return samples


async def peak_rss(pid: int, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, rss_kb(pid))
        await asyncio.sleep(0.25)
    return peak


async def measure_memory(
    server: Server, api: Api, identities: list[AgentIdentity], args: argparse.Namespace
) -> tuple[Fleet, dict[str, Any]]:
    """Baseline RSS (after one warm-up link came and went), then RSS with every agent linked and idle."""
    pid, scratch = server.process.pid, args.scratch / "fleet-scale"  # type: ignore[union-attr]
    cold = rss_kb(pid)
    warm = Fleet(identities[:1], scratch, 1)
    await warm.connect()
    await wait_until(lambda: api.host_connected(identities[0].host_id), "the warm-up link")
    await warm.close()
    await asyncio.sleep(3)
    base = statistics.median(await sample_rss(pid, 5))
    fleet = Fleet(identities, scratch, args.connect_parallel)
    window = CpuWindow(pid)
    connect_s = await fleet.connect()
    connect_cpu = window.shares()
    if fleet.errors():
        print(f"  {len(fleet.errors())} links failed; first: {fleet.errors()[0]}", flush=True)
    await wait_until(
        lambda: api.connected() >= len(identities) - len(fleet.errors()), "every link registered"
    )
    print(f"  {len(identities)} links in {connect_s:.1f} s; idle for {args.idle:.0f} s …", flush=True)
    await asyncio.sleep(max(0.0, args.idle - 10))
    idle = statistics.median(await sample_rss(pid, 10))
    linked = len(identities) - len(fleet.errors())
    return fleet, {
        "cold_kb": cold,
        "base_kb": base,
        "idle_kb": idle,
        "linked": linked,
        "connect_s": connect_s,
        "connect_cpu": connect_cpu,
        "per_agent_kb": (idle - base) / max(linked, 1),
    }


async def measure_ingest(
    server: Server, fleet: Fleet, payloads: list[tuple[str, bytes]], args: argparse.Namespace
) -> dict[str, Any]:
    """All agents deliver at once (or `--ingest-parallel` at a time); hung deliveries are retried alone."""
    pid = server.process.pid  # type: ignore[union-attr]
    stop = asyncio.Event()
    peak = asyncio.create_task(peak_rss(pid, stop))
    window = CpuWindow(pid)
    BenchLinkSession.gate = asyncio.Semaphore(args.ingest_parallel) if args.ingest_parallel else None
    seconds = await fleet.deliver(payloads, args.stall)
    shares, statuses, hung = window.shares(), fleet.statuses(), fleet.hung()
    retry_s = 0.0
    if hung:
        print(f"  {len(hung)} deliveries never answered; delivering them again one at a time …", flush=True)
        retry_s = await fleet.retry(hung, payloads, args.stall)
    stop.set()
    return {
        "seconds": seconds,
        "statuses": statuses,
        "stored": statuses.get("stored", 0),
        "hung": len(hung),
        "retry_s": retry_s,
        "retry_statuses": fleet.statuses(),
        "still_hung": len(fleet.hung()),
        "cpu": shares,
        "peak_kb": await peak,
        "after_kb": rss_kb(pid),
        "bytes": sum(len(payload) for _, payload in payloads),
    }


def measure_rematch(api: Api, server: Server, runs: int) -> dict[str, Any]:
    walls, answers, shares = [], [], []
    for index in range(runs):
        window = CpuWindow(server.process.pid)  # type: ignore[union-attr]
        wall, answer = api.rematch()
        shares.append(window.shares())
        print(f"  re-match {index + 1}/{runs}: {wall:.2f} s (server says {answer['seconds']} s)", flush=True)
        walls.append(wall)
        answers.append(answer)
    return {"walls": walls, "answers": answers, "cpu": shares[-1]}


def store_counts(database_url: str) -> dict[str, int]:
    tables = {
        "host packages": "SELECT count(*) FROM host_packages",
        "distinct packages": "SELECT count(*) FROM packages",
        "vulnerable packages": "SELECT count(DISTINCT package_id) FROM package_vulns",
        "open findings": "SELECT count(*) FROM findings WHERE status = 'open'",
    }
    return {label: int(query(database_url, sql) or 0) for label, sql in tables.items()}


async def one_database(
    args: argparse.Namespace, kind: str, payloads: list[tuple[str, bytes]]
) -> dict[str, Any]:
    print(f"== {kind}", flush=True)
    with running_server(args, kind) as (server, database_url, setup):
        started = time.perf_counter()
        identities = enroll_hosts(server, database_url, args.agents)
        setup["enroll"] = time.perf_counter() - started
        server.start()
        wait_for_build(database_url)
        api = Api(server)
        print(f"  server pid {server.process.pid} on {server.url}; {args.agents} hosts enrolled", flush=True)  # type: ignore[union-attr]
        fleet, memory = await measure_memory(server, api, identities, args)
        print(f"  memory: {memory['per_agent_kb']:.1f} KB per idle agent; ingesting …", flush=True)
        try:
            ingest = await measure_ingest(server, fleet, payloads, args)
            print(
                f"  ingest: {ingest['stored'] / ingest['seconds']:.1f} inventories/s; re-matching …",
                flush=True,
            )
            rematch = await asyncio.to_thread(measure_rematch, api, server, args.runs)
            rematch["after"] = await asyncio.to_thread(measure_update, api, server)
        finally:
            await fleet.close()
        counts = store_counts(database_url)
        api.client.close()
    return {
        "kind": kind,
        "memory": memory,
        "ingest": ingest,
        "rematch": rematch,
        "counts": counts,
        "setup": setup,
    }


# --- the report ------------------------------------------------------------------------------------


def ok(passed: bool) -> str:
    return "met" if passed else "NOT met"


def cores(shares: dict[str, float]) -> str:
    return f"server {shares['server']:.2f}, bench {shares['bench']:.2f}, machine {shares['machine']:.2f}"


def result_rows(results: list[dict[str, Any]], args: argparse.Namespace) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in results:
        m, i, x = r["memory"], r["ingest"], r["rematch"]
        rate = i["stored"] / i["seconds"]
        server_s = statistics.median(a["seconds"] for a in x["answers"])
        rows.append(
            [
                r["kind"],
                f"{m['base_kb'] / 1024:.0f} → {m['idle_kb'] / 1024:.0f} MB",
                f"{m['per_agent_kb']:.1f} KB",
                f"{m['connect_s']:.1f} s",
                f"{i['stored']} in {i['seconds']:.1f} s" + (f" ({i['hung']} hung)" if i["hung"] else ""),
                f"{rate:.1f}",
                f"{rate * args.packages:,.0f}",
                f"{i['peak_kb'] / 1024:.0f} MB",
                f"{statistics.median(x['walls']):.2f} s ({min(x['walls']):.2f}–{max(x['walls']):.2f})",
                f"{server_s:.2f} s",
                _changed(x["after"]["update"], "opened"),
                _changed(x["after"]["withdrawal"], "closed"),
            ]
        )
    return rows


def _changed(answer: dict[str, Any], what: str) -> str:
    return f"{answer['seconds']:.2f} s ({answer[what]:,} {what})"


HEADERS = [
    "database",
    "server RSS: 0 → N idle links",
    "per idle agent",
    "N links up in",
    "inventories stored",
    "inventories/s",
    "packages/s",
    "peak RSS in ingest",
    "re-match wall (range)",
    "re-match, server's `seconds`",
    "re-match after an update",
    "re-match after a withdrawal",
]


def notes(results: list[dict[str, Any]], args: argparse.Namespace, pool: int) -> list[str]:
    lines = [
        f"N = {args.agents} agents, one TLS WebSocket link each, on one asyncio loop in the benchmark process; "
        f"inventories of {args.packages} Debian 11 packages ({args.shared} shared by every host, the rest drawn "
        f"from a pool of {pool} real name/version pairs), delivered by the real `LinkSession`, "
        + (f"at most {args.ingest_parallel} in flight" if args.ingest_parallel else "all at once"),
        "hosts written into the store with certificates from the server's CA (API enrollment is rate-limited "
        "to 60 a minute per address)",
        "re-match: `POST /api/v1/advisories/rematch` with the advisory database unchanged since the ingest, so "
        "every distinct package is judged again but no verdict, and so no finding, changes",
        "the server starts with every second record of the Debian export; *after an update* the full export "
        "replaces it (findings open across the fleet), *after a withdrawal* the half one comes back (they close)",
    ]
    for r in results:
        m, i, x, c = r["memory"], r["ingest"], r["rematch"], r["counts"]
        per = m["per_agent_kb"]
        lines.append(
            f"{r['kind']}: memory {per:.1f} KB per idle agent (target ≤ {MAX_KB_PER_AGENT:.0f} KB): {ok(per <= MAX_KB_PER_AGENT)}"
        )
        if r["kind"] == "postgresql":
            worst = max(
                x["after"]["update"]["seconds"],
                x["after"]["withdrawal"]["seconds"],
                *(a["seconds"] for a in x["answers"]),
            )
            lines.append(
                f"postgresql: slowest re-match {worst:.2f} s (target ≤ {MAX_REMATCH_PG_S:.0f} s): "
                f"{ok(worst <= MAX_REMATCH_PG_S)}"
            )
        lines.append(
            f"{r['kind']}: cold server {m['cold_kb'] / 1024:.0f} MB, baseline after one warm-up link "
            f"{m['base_kb'] / 1024:.0f} MB, {m['linked']} links held, RSS after ingest {i['after_kb'] / 1024:.0f} MB; "
            f"cores used while linking: {cores(m['connect_cpu'])}"
        )
        lines.append(
            f"{r['kind']}: ingest acks {i['statuses']}, {i['hung']} deliveries never answered; "
            f"{i['bytes'] / 1e6:.0f} MB of inventories; cores used: {cores(i['cpu'])}"
        )
        if i["hung"]:
            lines.append(
                f"{r['kind']}: the {i['hung']} hung deliveries, sent again one at a time on new links: "
                f"{i['retry_s']:.1f} s, acks now {i['retry_statuses']}, {i['still_hung']} still unanswered"
            )
        answer = x["answers"][-1]
        lines.append(
            f"{r['kind']}: re-match covered {answer['hosts']} hosts, {answer['packages']} distinct packages "
            f"(opened {answer['opened']}, closed {answer['closed']}); cores used: {cores(x['cpu'])}; "
            f"store: " + ", ".join(f"{k} {v:,}" for k, v in c.items())
        )
    return lines


async def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], int]:
    pool = package_pool(args.vulndata / "osv" / "Debian" / "all.zip", args.pool)
    print(f"building {args.agents} inventories from a pool of {len(pool)} packages …", flush=True)
    payloads = inventories(pool, args)
    results = []
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        results.append(await one_database(args, kind, payloads))
    return results, len(pool)


def main() -> None:
    args = parse_args()
    if not (args.vulndata / "osv" / "Debian" / "all.zip").exists():
        sys.exit(f"benchmark: no Debian OSV zip under {args.vulndata}; pass --vulndata")
    results, pool = asyncio.run(run(args))
    text_ = benchlib.table(HEADERS, result_rows(results, args))
    body = text_ + "\n\n" + "\n".join(f"- {line}" for line in notes(results, args, pool))
    benchlib.publish(HEADING, body, write=not args.no_write)


if __name__ == "__main__":
    main()
