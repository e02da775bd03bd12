"""The root ``rampart`` command: global options, sub-command table, and the one error handler."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rampart import __version__
from rampart.cli import (
    agent,
    audit,
    db,
    fim,
    findings,
    harden,
    hosts,
    images,
    login,
    registries,
    sbom,
    scan,
    server,
    session,
    tokens,
    users,
)
from rampart.cli.settings import Settings, default_cache_dir
from rampart.errors import RampartError

app = typer.Typer(
    name="rampart",
    help="Self-hosted compute protection: find known vulnerabilities on Linux hosts and filesystems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The command table: every command group is listed here, nowhere else.
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.command(name="scan")(scan.scan_command)
app.command(name="sbom")(sbom.sbom_command)
app.command(name="login")(login.login_command)
app.command(name="logout")(login.logout_command)
app.command(name="whoami")(login.whoami_command)
app.add_typer(hosts.app, name="hosts")
app.add_typer(findings.app, name="findings")
app.add_typer(
    registries.app,
    name="registries",
    help="Container registries and repositories the server scans: add, list, remove, scan now.",
)
app.add_typer(images.app, name="images", help="Registry images the server scanned: list, show, findings.")
app.add_typer(fim.app, name="fim")
app.add_typer(harden.app, name="harden")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(server.app, name="server")
app.add_typer(agent.app, name="agent")
app.add_typer(session.app, name="session")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rampart {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            envvar="RAMPART_CACHE_DIR",
            help="Where the advisory database lives (default: ~/.cache/rampart).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Self-hosted compute protection for Linux fleets."""
    ctx.obj = Settings(cache_dir=cache_dir or default_cache_dir(), verbose=verbose)


def run() -> None:
    """Entry point: run the app; a RampartError becomes one line on stderr and its exit code."""
    try:
        app()
    except RampartError as error:
        if "--verbose" in sys.argv or "-v" in sys.argv:
            raise
        sys.stderr.write(f"rampart: error: {error.message}\n")
        sys.exit(error.exit_code)
