"""Join tokens: one-time secrets that let a new host enrol (``rampart server token create|list|revoke``).

``join_tokens_app`` is mounted by the ``server`` group as ``token``. ``parse_duration`` reads the
short durations every token command takes (``30m``, ``1h``, ``7d``, ``1h30m``).
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
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
    parse_tags,
    wants_json,
    width,
)
from rampart.errors import UsageError

join_tokens_app = typer.Typer(help="Join tokens that let new hosts enrol.", no_args_is_help=True)

_DURATION = re.compile(r"(?:\d{1,9}[smhdw])+")
_PART = re.compile(r"(\d{1,9})([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=3650)
JOIN_TOKEN_MAX_SECONDS = 30 * 86400


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"1h"``, ``"7d"``, ``"2w"``, or several joined (``"1h30m"``); positive, at most ten years."""
    cleaned = text.strip().lower()
    if not _DURATION.fullmatch(cleaned):
        raise UsageError(f"not a duration: {text[:40]!r} (use e.g. 30m, 1h, 7d)")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(cleaned))
    if seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        raise UsageError(f"duration {cleaned} must be more than zero and at most 3650d")
    return timedelta(seconds=seconds)


def expires_in(text: str, *, low: int = 60, high: int = 31_536_000) -> int:
    """A duration in whole seconds within what the server accepts."""
    seconds = int(parse_duration(text).total_seconds())
    if not low <= seconds <= high:
        raise UsageError(f"--expires must be between {low // 60} minute(s) and {high // 86400} days")
    return seconds


@join_tokens_app.command("create")
def create_command(
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tags", "--tag", help="Tags the new host gets: env=prod,team=payments.", show_default=False
        ),
    ] = None,
    expires: Annotated[
        str, typer.Option("--expires", help="How long the token may be used: 30m, 1h, 7d.")
    ] = "1h",
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Create a one-time join token; it is printed once and cannot be shown again."""
    seconds = expires_in(expires, high=JOIN_TOKEN_MAX_SECONDS)
    with open_client(server, token) as client:
        created = client.create_join_token(parse_tags(tags), seconds)
    note("the join token is shown only once; give it to the new host's `rampart agent enroll`")
    if wants_json(output):
        from rampart.client.models import to_json

        emit_json({**to_json(created), "token": created.token})
        return
    emit(created.token + "\n")
    if sys.stdout.isatty():
        emit(f"id {created.id}, expires {created.expires_at:%Y-%m-%d %H:%M UTC}\n")


@join_tokens_app.command("list")
def list_command(
    server: ServerOption = None, token: TokenOption = None, output: FormatOption = OutputFormat.AUTO
) -> None:
    """List join tokens (never their secrets)."""
    with open_client(server, token) as client:
        tokens = client.join_tokens()
    if wants_json(output):
        emit_json(tokens)
        return
    from rampart.report.fleet_table import render_join_tokens

    emit(render_join_tokens(tokens, datetime.now(UTC), width=width(), color=colour()))


@join_tokens_app.command("revoke")
def revoke_command(
    token_id: Annotated[str, typer.Argument(help="Join token id.")],
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke an unused join token."""
    with open_client(server, token) as client:
        client.revoke_join_token(token_id)
    from rampart.report.escape import safe_text

    emit(f"revoked join token {safe_text(token_id)}\n")
