"""``rampart fim hosts|changes|accept|request``: the fleet's file integrity, through the server.

``register`` adds these commands to the ``rampart fim`` group. A PATH given to ``accept`` is the file's
name as the host has it (its bytes: ``--b64`` takes base64 instead, for names a shell cannot type).
"""

from __future__ import annotations

import base64
import binascii
import enum
import os
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
from rampart.errors import UsageError


class ChangeStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    ALL = "all"


class ChangeCause(enum.StrEnum):
    UNEXPLAINED = "unexplained"
    PACKAGE_MODIFIED = "package-modified"
    PACKAGE = "package"
    GENERATED = "generated"


def register(app: typer.Typer) -> None:
    """Add the fleet commands to the ``rampart fim`` group."""
    app.command("hosts")(hosts_command)
    app.command("changes")(changes_command)
    app.command("accept")(accept_command)
    app.command("request")(request_command)


def hosts_command(
    server: ServerOption = None, token: TokenOption = None, output: FormatOption = OutputFormat.AUTO
) -> None:
    """Each host's latest file integrity check: when, any refused baseline, open changes by cause."""
    with open_client(server, token) as client:
        hosts = client.fim_hosts()
    if wants_json(output):
        emit_json(hosts)
        return
    from rampart.report.fim_fleet_table import render_fim_hosts

    emit(render_fim_hosts(hosts, datetime.now(UTC), width=width(), color=colour()))


def changes_command(
    host: Annotated[str | None, typer.Option("--host", help="Only this host (id or hostname).")] = None,
    status: Annotated[ChangeStatus, typer.Option("--status", help="Which changes.")] = ChangeStatus.OPEN,
    cause: Annotated[
        ChangeCause | None, typer.Option("--cause", help="Only changes with this cause.")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Changed files on the hosts you may see, the ones needing review first."""
    from rampart.client.api import FimChangeQuery

    query = FimChangeQuery(host=host, status=status.value, cause=cause.value if cause else None)
    with open_client(server, token) as client:
        changes = client.fim_changes(query)
    if wants_json(output):
        emit_json(changes)
        return
    from rampart.report.fim_fleet_table import render_fim_changes

    emit(render_fim_changes(changes, datetime.now(UTC), width=width(), color=colour()))


def accept_command(
    host: HostArgument,
    paths: Annotated[
        list[str] | None, typer.Argument(help="Changed paths to accept.", show_default=False)
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why the change is expected (audited).")] = "",
    all_open: Annotated[bool, typer.Option("--all", help="Accept every open change of the host.")] = False,
    b64: Annotated[bool, typer.Option("--b64", help="PATHs are base64 of the names' bytes.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Accept a host's changes in the state they are in now; a later, different change opens them again."""
    if not reason.strip():
        raise UsageError("say why with --reason TEXT (it is audited)")
    if bool(paths) == all_open:
        raise UsageError("name the changed paths or pass --all, not both")
    encoded = [_encoded(p, b64) for p in paths or ()]
    from rampart.cli.hosts import resolve_host

    with open_client(server, token) as client:
        accepted = client.accept_fim_changes(
            resolve_host(client, host), reason, paths_b64=encoded, all_open=all_open
        )
    if wants_json(output):
        emit_json(accepted)
        return
    from rampart.report.escape import safe_text

    emit("".join(f"accepted {safe_text(c.path)}\n" for c in accepted) + f"{len(accepted)} accepted\n")


def _encoded(path: str, is_b64: bool) -> str:
    if not is_b64:
        return base64.b64encode(os.fsencode(path)).decode("ascii")
    try:
        return base64.b64encode(base64.b64decode(path, validate=True)).decode("ascii")
    except binascii.Error:
        raise UsageError(f"not base64: {path[:80]!r}") from None


def request_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Ask a host's agent to check its files against its baseline now."""
    from rampart.cli.hosts import emit_job_requested, resolve_host

    with open_client(server, token) as client:
        host_id = resolve_host(client, host)
        job_id = client.request_fim_check(host_id)
    emit_job_requested("file integrity check", host_id, job_id, output)
