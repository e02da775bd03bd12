"""``rampart harden hosts|failing|history|request``: the fleet's hardening, through the server.

``register`` adds these commands to the ``rampart harden`` group (the local commands live in
`rampart.cli.harden`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    HostArgument,
    OutputFormat,
    ServerOption,
    TokenOption,
    colour,
    emit,
    emit_json,
    open_client,
    wants_json,
    width,
)
from rampart.harden.model import Status

ProfileFilter = Annotated[
    str | None, typer.Option("--profile", help="Only this profile.", show_default=False)
]


def register(app: typer.Typer) -> None:
    """Add the fleet commands to the ``rampart harden`` group."""
    app.command("hosts")(hosts_command)
    app.command("failing")(failing_command)
    app.command("history")(history_command)
    app.command("request")(request_command)


def hosts_command(
    profile: ProfileFilter = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Each host's newest hardening score per profile, its results by status, and when it ran."""
    with open_client(server, token) as client:
        hosts = client.harden_hosts(profile)
    if wants_json(output):
        emit_json(hosts)
        return
    from rampart.report.harden_fleet_table import render_harden_hosts

    emit(render_harden_hosts(hosts, datetime.now(UTC), width=width(), color=colour()))


def failing_command(
    status: Annotated[
        Status, typer.Option("--status", help="Which status to count (default: failing).")
    ] = Status.FAIL,
    profile: ProfileFilter = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Rules failing across the hosts you may see, with how many hosts: worst severity, most hosts first."""
    with open_client(server, token) as client:
        rules = client.harden_rules(status.value, profile)
    if wants_json(output):
        emit_json(rules)
        return
    from rampart.report.harden_fleet_table import render_harden_rules

    emit(render_harden_rules(rules, status.value, width=width(), color=colour()))


def history_command(
    host: HostArgument,
    profile: ProfileFilter = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many runs.")] = 20,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """A host's hardening runs (its score over time) and the rules whose status changed."""
    from rampart.cli.hosts import resolve_host

    with open_client(server, token) as client:
        host_id = resolve_host(client, host)
        runs = client.harden_runs(host_id, profile, limit=limit)
        changes = client.harden_results(host_id, profile, changed=True)
    if wants_json(output):
        emit_json({"host_id": host_id, "runs": runs, "changes": changes})
        return
    from rampart.report.harden_fleet_table import render_harden_history

    emit(render_harden_history(runs, changes, datetime.now(UTC), width=width(), color=colour()))


def request_command(
    host: HostArgument,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="Shipped profile to run (default: the agent's own).", show_default=False
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Ask a host's agent to run a hardening profile now."""
    from rampart.cli.hosts import emit_job_requested, resolve_host

    with open_client(server, token) as client:
        host_id = resolve_host(client, host)
        job_id = client.request_harden_run(host_id, profile)
    emit_job_requested("hardening run", host_id, job_id, output)
