"""What every command that talks to a rampart server shares: the ``--server``/``--token``/``--format``
options, the one place a client is made (``open_client``, overridable with ``use_client_factory`` for
tests), output as a table on a terminal or JSON when piped, tag and password input, confirmations.
"""

from __future__ import annotations

import enum
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.client.api import ApiClient
    from rampart.client.config import Connection


class OutputFormat(enum.StrEnum):
    """``auto`` is a table on a terminal and JSON when piped."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"


ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server", help="Server URL (default: $RAMPART_SERVER, then the stored login).", show_default=False
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", help="API token (default: $RAMPART_TOKEN, then the stored login).", show_default=False
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="auto: a table on a terminal, JSON when piped.")
]
HostArgument = Annotated[str, typer.Argument(help="Host id (h-...) or hostname.")]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", help="k=v (repeatable, or comma-separated).", show_default=False),
]

ClientFactory = Callable[["Connection"], "ApiClient"]


def _real_client(connection: Connection) -> ApiClient:
    from rampart.client.api import ApiClient

    return ApiClient(connection.server, connection.token, connection.ca_pem, connection.timeout)


_factory: ContextVar[ClientFactory] = ContextVar("rampart_client_factory", default=_real_client)


@contextmanager
def use_client_factory(factory: ClientFactory) -> Iterator[None]:
    """Make every command build its client with ``factory`` (tests inject a double here, and only here)."""
    token = _factory.set(factory)
    try:
        yield
    finally:
        _factory.reset(token)


def make_client(connection: Connection) -> ApiClient:
    """A client for an explicit connection (login, before anything is stored)."""
    return _factory.get()(connection)


def open_client(server: str | None, token: str | None, *, need_token: bool = True) -> ApiClient:
    """A client for the server and token the options, the environment or the stored login name."""
    from rampart.client.config import resolve

    return make_client(resolve(server, token, need_token=need_token))


def wants_json(output: OutputFormat) -> bool:
    return output is OutputFormat.JSON or (output is OutputFormat.AUTO and not sys.stdout.isatty())


def emit_json(value: object) -> None:
    """Any model or list of models as one line of ASCII JSON on stdout."""
    from rampart.client.models import to_json
    from rampart.report.json import ascii_json

    sys.stdout.write(ascii_json(to_json(value)) + "\n")


def emit(text: str) -> None:
    sys.stdout.write(text)


def note(text: str) -> None:
    """A remark for the person at the terminal, on stderr so pipes stay clean."""
    from rampart.report.escape import safe_text

    sys.stderr.write(f"rampart: {safe_text(text)}\n")


def width() -> int:
    import shutil

    return max(80, shutil.get_terminal_size((120, 40)).columns)


def colour() -> bool:
    return sys.stdout.isatty()


_TAG_KEY = re.compile(r"[a-z0-9_.-]{1,64}")


def parse_tags(values: Sequence[str] | None) -> dict[str, str]:
    """``k=v`` items, each option possibly comma-separated; keys as the server requires them."""
    tags: dict[str, str] = {}
    for value in values or ():
        for item in filter(None, (part.strip() for part in value.split(","))):
            key, sep, text = item.partition("=")
            if not sep or not _TAG_KEY.fullmatch(key) or len(text) > 128 or not text.isprintable():
                raise UsageError(f"tags look like key=value with key in [a-z0-9_.-]: {item!r}")
            tags[key] = text
    return tags


def read_password(prompt: str, *, twice: bool = False) -> str:
    """``$RAMPART_PASSWORD`` for automation, else a hidden prompt (typed twice when ``twice``)."""
    password = os.environ.get("RAMPART_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: set RAMPART_PASSWORD")
    password = typer.prompt(prompt, hide_input=True, confirmation_prompt=twice)
    if not password:
        raise UsageError("the password must not be empty")
    return str(password)


def confirm(question: str, yes: bool) -> None:
    """Go on when ``--yes`` was given or the user agrees; refuse when there is no one to ask."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Pass --yes to confirm without a terminal.")
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)
