"""``rampart hosts``: list enrolled hosts, show one, revoke it, ask it to scan, list its packages.

A HOST argument is a host id (``h-`` and 16 hex digits) or a hostname that names exactly one host.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    HostArgument,
    OutputFormat,
    ServerOption,
    TagOption,
    TokenOption,
    colour,
    confirm,
    emit,
    emit_json,
    open_client,
    parse_tags,
    wants_json,
    width,
)
from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.client.api import ApiClient

app = typer.Typer(help="Enrolled hosts: list, inspect, revoke, scan.", no_args_is_help=True)

_HOST_ID = re.compile(r"h-[0-9a-f]{16}")


class HostStatus(enum.StrEnum):
    """What ``--status`` may ask for."""

    ONLINE = "online"
    OFFLINE = "offline"
    STALE = "stale"
    REVOKED = "revoked"


def resolve_host(client: ApiClient, ref: str) -> str:
    """The id of the host ``ref`` names: an id as is, or the one host with that hostname."""
    if _HOST_ID.fullmatch(ref):
        return ref
    from rampart.report.escape import safe_text

    matches = [host.id for host in client.hosts() if host.hostname == ref]
    if not matches:
        raise UsageError(f"no host named {safe_text(ref)!r}; see rampart hosts list")
    if len(matches) > 1:
        raise UsageError(
            f"hostname {safe_text(ref)!r} names {len(matches)} hosts ({', '.join(matches)}); use an id"
        )
    return matches[0]


@app.command("list")
def list_command(
    server: ServerOption = None,
    token: TokenOption = None,
    tag: TagOption = None,
    stale: Annotated[bool, typer.Option("--stale", help="Only hosts that stopped reporting.")] = False,
    status: Annotated[HostStatus | None, typer.Option("--status", help="Only hosts in this state.")] = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List hosts: id, hostname, OS, agent version, last seen, tags, status (stale ones highlighted)."""
    tags = tuple(parse_tags(tag).items())
    with open_client(server, token) as client:
        hosts = client.hosts(
            tags=tags, stale=True if stale else None, status=status.value if status else None
        )
    if wants_json(output):
        emit_json(hosts)
        return
    from rampart.report.fleet_table import render_hosts

    emit(render_hosts(hosts, datetime.now(UTC), width=width(), color=colour()))


@app.command("show")
def show_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Show one host in detail."""
    with open_client(server, token) as client:
        found = client.host(resolve_host(client, host))
    if wants_json(output):
        emit_json(found)
        return
    from rampart.report.fleet_table import render_host

    emit(render_host(found, datetime.now(UTC), width=width(), color=colour()))


@app.command("revoke")
def revoke_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Revoke a host's certificate: its agent can no longer connect or report."""
    with open_client(server, token) as client:
        host_id = resolve_host(client, host)
        confirm(f"Revoke host {host_id}?", yes)
        revoked = client.revoke_host(host_id)
    if wants_json(output):
        emit_json(revoked)
    else:
        from rampart.report.escape import safe_text

        emit(f"revoked host {revoked.id} ({safe_text(revoked.hostname)})\n")


@app.command("scan")
def scan_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Ask a host's agent to scan now."""
    with open_client(server, token) as client:
        host_id = resolve_host(client, host)
        job_id = client.scan_host(host_id)
    emit_job_requested("scan", host_id, job_id, output)


def emit_job_requested(what: str, host_id: str, job_id: str, output: OutputFormat) -> None:
    """Say that a host's agent was asked for a job: JSON when asked or piped, one line otherwise."""
    if wants_json(output):
        emit_json({"host_id": host_id, "job_id": job_id})
    else:
        from rampart.report.escape import safe_text

        emit(f"{what} requested for {host_id}: job {safe_text(job_id)}\n")


@app.command("packages")
def packages_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List the packages in a host's latest inventory."""
    with open_client(server, token) as client:
        packages = client.host_packages(resolve_host(client, host))
    if wants_json(output):
        emit_json(packages)
        return
    from rampart.report.fleet_table import render_packages

    emit(render_packages(packages, width=width(), color=colour()))
