"""``rampart tokens``: the caller's own API tokens for scripts and CI: list, create (shown once), revoke."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TokenOption,
    colour,
    emit,
    emit_json,
    note,
    open_client,
    wants_json,
    width,
)

app = typer.Typer(help="Your API tokens for scripts and CI.", no_args_is_help=True)


class Scope(enum.StrEnum):
    """What a token may do; never more than its user's roles allow."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    AUDIT = "audit"


@app.command("list")
def list_command(
    server: ServerOption = None, token: TokenOption = None, output: FormatOption = OutputFormat.AUTO
) -> None:
    """List your tokens (never their secrets)."""
    with open_client(server, token) as client:
        tokens = client.tokens()
    if wants_json(output):
        emit_json(tokens)
        return
    from rampart.report.fleet_table import render_tokens

    emit(render_tokens(tokens, datetime.now(UTC), width=width(), color=colour()))


@app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="A label, e.g. ci-nightly.")],
    scope: Annotated[
        list[Scope] | None,
        typer.Option("--scope", help="read, write, admin, audit (repeatable; default read)."),
    ] = None,
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime: 30m, 12h, 30d (at most 365d).")
    ] = "30d",
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Create a token; the secret is printed once and cannot be shown again."""
    from rampart.cli.jointokens import expires_in

    seconds = expires_in(expires)
    scopes = [s.value for s in scope or [Scope.READ]]
    with open_client(server, token) as client:
        created = client.create_token(name, scopes, seconds)
    note("this token is shown only once; store it now (e.g. in your CI's secret store)")
    if wants_json(output):
        from rampart.client.models import to_json

        emit_json({**to_json(created), "token": created.token})
    else:
        emit(created.token + "\n")


@app.command("revoke")
def revoke_command(
    token_id: Annotated[str, typer.Argument(help="Token id (see tokens list).")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke one of your tokens."""
    with open_client(server, token) as client:
        client.revoke_token(token_id)
    from rampart.report.escape import safe_text

    emit(f"revoked token {safe_text(token_id)}\n")
