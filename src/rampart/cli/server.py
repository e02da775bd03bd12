"""`rampart server`: run the control plane, create its first administrator, manage join tokens."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from rampart.cli.jointokens import join_tokens_app
from rampart.errors import UsageError

app = typer.Typer(
    help="Run the rampart server (the fleet's control plane).",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(join_tokens_app, name="token", help="Create, list and revoke agent join tokens.")


PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy-file",
        help="Cedar policies to use instead of the built-in ones (checked against rampart's schema at start; "
        "`rampart server policies` prints the built-in set to start from).",
        show_default=False,
    ),
]
Recordings = Annotated[
    str | None,
    typer.Option(
        "--recordings",
        envvar="RAMPART_RECORDINGS",
        help="Where session recordings go: a directory or s3://bucket/prefix?endpoint=URL "
        "(default: recordings/ in the data dir).",
        show_default=False,
    ),
]
FailClosed = Annotated[
    bool,
    typer.Option(
        "--recording-fail-closed", help="Refuse and end sessions whose recording cannot be written."
    ),
]
SessionUser = Annotated[
    str | None,
    typer.Option(
        "--session-user", help="OS user for sessions of users without a 'runas' tag.", show_default=False
    ),
]


@app.callback()
def server(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="RAMPART_DATA_DIR",
            help="State directory (default /var/lib/rampart for root).",
            show_default=False,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="RAMPART_DATABASE_URL",
            help="PostgreSQL URL (default: SQLite in the data dir).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8443,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="URL agents and users reach.", show_default=False)
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Your own certificate chain (PEM).", show_default=False)
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="Its private key (PEM).", show_default=False)
    ] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option(
            "--tls-ca",
            help="The CA that issued --tls-cert (what agents and clients pin).",
            show_default=False,
        ),
    ] = None,
    tls_name: Annotated[
        list[str] | None,
        typer.Option(
            "--tls-name",
            help="DNS name or IP for the generated certificate "
            "(repeat; default localhost, 127.0.0.1 and --host).",
            show_default=False,
        ),
    ] = None,
    advisory_db: Annotated[
        Path | None,
        typer.Option(
            "--advisory-db",
            help="Advisory database to match against (default: advisories.sqlite3 in the data dir).",
            show_default=False,
        ),
    ] = None,
    stale_after: Annotated[
        int, typer.Option("--stale-after", help="Minutes of silence before a host counts as stale.")
    ] = 10,
    scan_interval: Annotated[
        int, typer.Option("--scan-interval", help="Minutes between agents' scheduled scans.")
    ] = 360,
    rematch_check: Annotated[
        float,
        typer.Option("--rematch-check", min=0.1, help="Seconds between checks for a new advisory database."),
    ] = 60.0,
    agent_cert_lifetime: Annotated[
        int,
        typer.Option(
            "--agent-cert-lifetime", min=30, help="Seconds an agent certificate lives (rotated at 2/3)."
        ),
    ] = 7 * 86400,
    policy_file: PolicyFile = None,
    recordings: Recordings = None,
    recording_fail_closed: FailClosed = False,
    session_user: SessionUser = None,
    session_idle_timeout: Annotated[
        float,
        typer.Option(
            "--session-idle-timeout", min=1, help="Seconds without user input before a session ends."
        ),
    ] = 1200.0,
    session_max_duration: Annotated[
        float, typer.Option("--session-max-duration", min=1, help="Seconds a session may last at most.")
    ] = 43200.0,
    session_grace: Annotated[
        float,
        typer.Option(
            "--session-grace", min=1, help="Seconds a session waits for a dropped client or host to return."
        ),
    ] = 120.0,
    link_keepalive: Annotated[
        float, typer.Option("--link-keepalive", min=0.1, help="Seconds between pings on agent links.")
    ] = 15.0,
    link_dead_after: Annotated[
        float,
        typer.Option(
            "--link-dead-after", min=0.5, help="Seconds of silence before an agent link is dropped."
        ),
    ] = 45.0,
    registry_auth: Annotated[
        Path | None,
        typer.Option(
            "--registry-auth",
            help="Docker-style config file with registry credentials "
            "(default: $DOCKER_CONFIG/config.json or ~/.docker/config.json).",
            show_default=False,
        ),
    ] = None,
    registry_interval: Annotated[
        float,
        typer.Option("--registry-interval", min=1, help="Seconds between polls of registered repositories."),
    ] = 3600.0,
) -> None:
    """Run the server; with a sub-command, act on its data directory instead."""
    from rampart.server.config import ServerConfig, default_data_dir

    names = tuple(dict.fromkeys([*(tls_name or ["localhost", "127.0.0.1"]), host]))
    config = ServerConfig(
        data_dir=data_dir or default_data_dir(),
        database_url=database_url,
        host=host,
        port=port,
        public_url=public_url,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_ca=tls_ca,
        tls_names=names,
        advisory_db=advisory_db,
        stale_after=timedelta(minutes=stale_after),
        scan_interval=scan_interval * 60.0,
        rematch_check_interval=rematch_check,
        agent_cert_lifetime=timedelta(seconds=agent_cert_lifetime),
        policy_file=policy_file,
        recordings=recordings,
        recording_fail_closed=recording_fail_closed,
        session_default_login=session_user,
        session_idle_timeout=session_idle_timeout,
        session_max_duration=session_max_duration,
        session_grace=session_grace,
        link_keepalive=link_keepalive,
        link_dead_after=link_dead_after,
        registry_auth=registry_auth,
        registry_interval=registry_interval,
    )
    ctx.obj = replace(config)
    if ctx.invoked_subcommand is None:
        from rampart.server.run import serve

        serve(config)


@app.command("policies")
def policies() -> None:
    """Print the built-in Cedar policies (a starting point for --policy-file)."""
    from rampart.policy import loader

    sys.stdout.write(loader.packaged(loader.DEFAULT_POLICY))


@app.command("init")
def init(
    ctx: typer.Context,
    admin: Annotated[str, typer.Option("--admin", help="Name of the first administrator.")] = "admin",
) -> None:
    """Create the data directory, the CA and the first administrator (password prompted or
    $RAMPART_ADMIN_PASSWORD)."""
    from rampart.server.bootstrap import build_state, create_admin

    password = os.environ.get("RAMPART_ADMIN_PASSWORD") or typer.prompt(
        f"Password for {admin}", hide_input=True, confirmation_prompt=True
    )
    if not password:
        raise UsageError("an empty password is not allowed")
    state = build_state(ctx.obj)
    create_admin(state, admin, password)
    typer.echo(f"administrator {admin} created in {ctx.obj.data_dir}")
    typer.echo(f"CA fingerprint: sha256:{state.trust_sha256}")
    typer.echo(
        f"log in with: rampart login --server {ctx.obj.base_url} --user {admin} "
        f"--ca-sha256 {state.trust_sha256}"
    )
    state.engine.dispose()
