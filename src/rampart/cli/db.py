"""``rampart db``: update, import and inspect the local advisory database."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage the local advisory database.", no_args_is_help=True)


@app.command("status")
def status_command() -> None:
    """Show the database's age, sources and counts."""
    raise NotImplementedError
