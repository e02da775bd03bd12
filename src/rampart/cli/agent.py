"""`rampart agent`: enroll this host with a join token, run the agent, show its state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The host agent: enroll, then run as a service (no listening port).", no_args_is_help=True
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="RAMPART_AGENT_DIR",
        help="Agent state (default /var/lib/rampart-agent for root).",
        show_default=False,
    ),
]


def _state_dir(value: Path | None) -> Path:
    if value is not None:
        return value
    if os.geteuid() == 0:
        return Path("/var/lib/rampart-agent")
    return Path.home() / ".local" / "share" / "rampart-agent"


@app.command("enroll")
def enroll(
    server: Annotated[str, typer.Option("--server", help="Server URL, e.g. https://rampart.example:8443.")],
    token: Annotated[str, typer.Option("--token", envvar="RAMPART_JOIN_TOKEN", help="One-time join token.")],
    state_dir: StateDir = None,
    hostname: Annotated[
        str | None,
        typer.Option("--hostname", help="Name to register (default: this host's).", show_default=False),
    ] = None,
) -> None:
    """Create this host's key pair, register it with the server, and store its identity."""
    from rampart.agent.enroll import enroll as do_enroll

    identity = do_enroll(server, token, _state_dir(state_dir), hostname)
    typer.echo(
        f"enrolled as {identity.host_id}; certificate valid until {identity.expires_at:%Y-%m-%d %H:%M} UTC"
    )


@app.command("run")
def run(
    state_dir: StateDir = None,
    root: Annotated[Path, typer.Option("--root", help="Root filesystem to scan.")] = Path("/"),
    scan_interval: Annotated[
        int | None,
        typer.Option(
            "--scan-interval", help="Minutes between scans (default: the server's).", show_default=False
        ),
    ] = None,
    fim_baseline: Annotated[
        Path | None,
        typer.Option(
            "--fim-baseline",
            help="File integrity baseline to check (default: `rampart fim`'s, /var/lib/rampart/fim/baseline.rfim).",
            show_default=False,
        ),
    ] = None,
    fim_verify_key: Annotated[
        Path | None,
        typer.Option(
            "--fim-verify-key",
            help="Public key that must have signed the baseline (default /etc/rampart/fim/signing.pub).",
            show_default=False,
        ),
    ] = None,
    fim_interval: Annotated[
        int,
        typer.Option(
            "--fim-interval",
            min=0,
            help="Minutes between file integrity checks once a baseline exists (0: only on demand or change).",
        ),
    ] = 60,
    fim_watch: Annotated[
        bool,
        typer.Option(
            "--fim-watch/--no-fim-watch",
            help="Watch the baseline's files (inotify) and check soon after a change (needs a baseline).",
        ),
    ] = True,
    fim_watch_debounce: Annotated[
        float,
        typer.Option(
            "--fim-watch-debounce",
            min=0.0,
            help="Seconds at least between two checks the watch asks for.",
        ),
    ] = 5.0,
    harden_interval: Annotated[
        int,
        typer.Option(
            "--harden-interval",
            min=0,
            help="Minutes between hardening runs (0: only on request).",
        ),
    ] = 24 * 60,
    harden_profile: Annotated[
        str,
        typer.Option("--harden-profile", help="Hardening profile run on schedule (rampart harden profiles)."),
    ] = "debian12-l1-server",
    harden_tailoring: Annotated[
        Path | None,
        typer.Option(
            "--harden-tailoring",
            help="Tailoring file for the hardening profile (rules selected or dropped, variables set).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Keep the outbound link to the server, scan and check files on schedule and on demand, deliver results."""
    import asyncio
    import logging
    import signal

    from rampart.agent.daemon import Agent, AgentSettings
    from rampart.agent.identity import AgentIdentity

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    directory = _state_dir(state_dir)
    settings = AgentSettings(
        directory,
        root,
        None if scan_interval is None else scan_interval * 60.0,
        fim_baseline=fim_baseline,
        fim_verify_key=fim_verify_key,
        fim_interval=fim_interval * 60.0,
        fim_watch=fim_watch,
        fim_watch_debounce=fim_watch_debounce,
        harden_interval=harden_interval * 60.0,
        harden_profile=harden_profile,
        harden_tailoring=harden_tailoring,
    )
    identity = AgentIdentity.load(directory)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await Agent(settings, identity).run(stop)

    asyncio.run(main())


@app.command("status")
def status(state_dir: StateDir = None) -> None:
    """Show this host's identity and spool."""
    import time

    import orjson

    from rampart.agent.daemon import SPOOL_FILE
    from rampart.agent.identity import AgentIdentity
    from rampart.agent.spool import Spool

    directory = _state_dir(state_dir)
    identity = AgentIdentity.load(directory)
    with Spool.open(directory / SPOOL_FILE, 1 << 40, 1 << 30, time.time) as spool:
        stats = spool.stats()
    typer.echo(
        orjson.dumps(
            {
                "host_id": identity.host_id,
                "server": identity.server_url,
                "certificate_expires_at": identity.expires_at.isoformat(),
                "spool": {"items": stats.count, "bytes": stats.bytes},
            }
        ).decode()
    )
