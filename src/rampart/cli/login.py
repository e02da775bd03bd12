"""``rampart login``, ``logout`` and ``whoami``: obtain, drop and inspect the stored login.

Login trusts the server's CA from ``--ca FILE``, from a ``--ca-sha256`` pin checked against
``GET /ca``, or from the system trust store; the password comes from a hidden prompt or
``$RAMPART_PASSWORD``. A user with a TOTP second factor gives the code with ``--totp``, or is asked
for it at a terminal when the server says one is needed. The token is stored (0600) and never printed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TokenOption,
    emit,
    emit_json,
    make_client,
    open_client,
    read_password,
    wants_json,
)
from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.client.api import ApiClient
    from rampart.client.config import ClientConfig
    from rampart.client.models import LoginResult

TOTP_REQUIRED = "a TOTP code is required"


def login_command(
    server: ServerOption = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", envvar="RAMPART_USER", help="User name.", show_default=False)
    ] = None,
    ca: Annotated[
        Path | None,
        typer.Option("--ca", help="Trust this CA certificate (PEM) for the server.", show_default=False),
    ] = None,
    ca_sha256: Annotated[
        str | None,
        typer.Option(
            "--ca-sha256",
            help="Fetch the server's CA and trust it if its SHA-256 matches.",
            show_default=False,
        ),
    ] = None,
    totp: Annotated[
        str | None,
        typer.Option("--totp", help="The current code of your TOTP second factor.", show_default=False),
    ] = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Log in to a rampart server and store the token (password: prompt or $RAMPART_PASSWORD)."""
    from rampart.client.config import ClientConfig, Connection, config_path, load_config, save_config
    from rampart.client.trust import check_server_url

    if ca is not None and ca_sha256 is not None:
        raise UsageError("give --ca or --ca-sha256, not both")
    path = config_path()
    stored = load_config(path)
    url = check_server_url(_server_url(server, stored))
    ca_pem = _trusted_ca(url, ca, ca_sha256, stored)
    name = _user_name(user, stored, url)
    password = read_password(f"password for {name}")
    with make_client(Connection(url, None, ca_pem)) as client:
        result = _log_in(client, name, password, totp)
    save_config(path, ClientConfig(url, result.token, ca_pem, result.user.name))
    if wants_json(output):
        emit_json({"server": url, "user": result.user, "expires_at": result.expires_at, "mfa": result.mfa})
    else:
        factor = " with a second factor" if result.mfa else ""
        emit(
            f"logged in to {url} as {_safe(result.user.name)}{factor}; "
            f"the token expires {result.expires_at:%Y-%m-%d %H:%M UTC}\n"
        )


def _log_in(client: ApiClient, name: str, password: str, code: str | None) -> LoginResult:
    """Log in, asking for a TOTP code at a terminal when the server says one is needed and none was given."""
    import sys

    from rampart.errors import ApiError

    try:
        return client.login(name, password, totp=code)
    except ApiError as error:
        if code is not None or error.status != 401 or TOTP_REQUIRED not in error.message:
            raise
    if not sys.stdin.isatty():
        raise UsageError(f"{_safe(name)} has a TOTP second factor: pass --totp CODE") from None
    return client.login(name, password, totp=str(typer.prompt("TOTP code")).strip())


def _safe(text: str) -> str:
    from rampart.report.escape import safe_text

    return safe_text(text)


def _server_url(server: str | None, stored: ClientConfig) -> str:
    url = server or os.environ.get("RAMPART_SERVER") or stored.server
    if not url:
        raise UsageError("which server? pass --server https://host:port")
    return url


def _trusted_ca(url: str, ca: Path | None, pin: str | None, stored: ClientConfig) -> str | None:
    """The CA to trust: the file given, the pinned one from the server, or the one trusted before."""
    from rampart.client.config import Connection
    from rampart.client.trust import MAX_PEM_BYTES, check_ca_pem, parse_pin

    if ca is not None:
        return check_ca_pem(_read_small(ca, MAX_PEM_BYTES))
    if pin is not None:
        parse_pin(pin)
        with make_client(Connection(url)) as client:
            return client.fetch_pinned_ca(pin)
    same = stored.server is not None and stored.server.rstrip("/") == url
    return stored.ca_pem if same else None


def _read_small(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{path} is larger than {limit} bytes; not a CA certificate")
    return data.decode("utf-8", "replace")


def _user_name(user: str | None, stored: ClientConfig, url: str) -> str:
    if user:
        return user
    if stored.user and stored.server and stored.server.rstrip("/") == url:
        return stored.user
    import sys

    if not sys.stdin.isatty():
        raise UsageError("which user? pass --user NAME or set RAMPART_USER")
    return str(typer.prompt("user"))


def logout_command(server: ServerOption = None, token: TokenOption = None) -> None:
    """Revoke the current token on the server and forget it here."""
    from rampart.client.config import config_path, forget_token, load_config
    from rampart.errors import ApiError

    with open_client(server, token) as client:
        try:
            client.logout()
        except ApiError as error:
            if error.status != 401:  # an expired or revoked token is as good as logged out
                raise
    path = config_path()
    if token is None and os.environ.get("RAMPART_TOKEN") is None and load_config(path).token:
        forget_token(path)
    emit("logged out\n")


def whoami_command(
    server: ServerOption = None, token: TokenOption = None, output: FormatOption = OutputFormat.AUTO
) -> None:
    """Show who the current token belongs to, its roles, tags and scopes."""
    from rampart.report.fleet_table import tags_text, until

    with open_client(server, token) as client:
        me = client.whoami()
        server_url = client.server
    if wants_json(output):
        emit_json({"server": server_url, **_plain(me)})
        return
    lines = [
        f"user     {_safe(me.name)} on {server_url}",
        f"roles    {', '.join(_safe(r) for r in me.roles) or '-'}",
        f"tags     {tags_text(me.tags) or '-'}",
        f"mfa      {'yes (this login passed a second factor)' if me.mfa else 'no'}",
        f"token    {_safe(me.token.name)} ({_safe(me.token.id)}), scopes {', '.join(me.token.scopes) or '-'}, "
        f"expires {until(me.token.expires_at, datetime.now(UTC))}",
    ]
    emit("\n".join(lines) + "\n")


def _plain(value: object) -> dict[str, object]:
    from rampart.client.models import to_json

    document = to_json(value)
    assert isinstance(document, dict)
    return document
