"""``rampart scan``: inventory a host or root filesystem and match it against the advisory database."""

from __future__ import annotations

import typer


def scan_command(ctx: typer.Context) -> None:
    """Find known vulnerabilities on this host or in a root filesystem directory."""
    raise NotImplementedError
