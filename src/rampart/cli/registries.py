"""``rampart registries``: register container registries and the repositories the server scans, poll them.

Credentials are not handled here: the server reads them from its own docker-style config file
(``rampart server --registry-auth FILE``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TokenOption,
    colour,
    confirm,
    emit,
    emit_json,
    open_client,
    wants_json,
    width,
)

app = typer.Typer(help="Container registries whose images the server scans.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The registry's name on the server.")]
RepositoryArgument = Annotated[str, typer.Argument(help="Repository in the registry, e.g. team/app.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


@app.command("add")
def add_command(
    name: NameArgument,
    host: Annotated[str, typer.Argument(help="The registry's host[:port], e.g. registry.example.org:5000.")],
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Plain HTTP (a local registry); HTTPS otherwise.")
    ] = False,
    platform: Annotated[
        str,
        typer.Option(
            "--platform",
            help="os/arch to pick from multi-platform images, e.g. linux/arm64.",
            show_default=False,
        ),
    ] = "",
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Register a registry (admin). Add repositories to it next."""
    with open_client(server, token) as client:
        registry = client.add_registry(name, host, insecure=insecure, platform=platform)
    if wants_json(output):
        emit_json(registry)
    else:
        from rampart.report.escape import safe_text

        emit(f"added registry {safe_text(registry.name)} ({safe_text(registry.host)})\n")


@app.command("list")
def list_command(
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List registries with their repositories, tag patterns, image counts and last poll."""
    with open_client(server, token) as client:
        registries = client.registries()
    if wants_json(output):
        emit_json(registries)
        return
    from rampart.report.image_table import render_registries

    emit(render_registries(registries, datetime.now(UTC), width=width(), color=colour()))


@app.command("remove")
def remove_command(
    name: NameArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    yes: YesOption = False,
) -> None:
    """Remove a registry, its repositories and their images and findings (admin)."""
    from rampart.report.escape import safe_text

    confirm(f"Remove registry {safe_text(name)} and every image scanned from it?", yes)
    with open_client(server, token) as client:
        client.remove_registry(name)
    emit(f"removed registry {safe_text(name)}\n")


@app.command("add-repository")
def add_repository_command(
    name: NameArgument,
    repository: RepositoryArgument,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            "-t",
            help="Tags to scan, a glob pattern like '1.*' (repeatable; default: every tag).",
            show_default=False,
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Follow a repository of a registry: its matching tags are scanned on the next poll (admin)."""
    with open_client(server, token) as client:
        added = client.add_repository(name, repository, tag or ["*"])
    if wants_json(output):
        emit_json(added)
    else:
        from rampart.report.escape import safe_text

        tags = ", ".join(added.tags)
        emit(
            f"added repository {safe_text(added.name)} to {safe_text(added.registry)} (tags {safe_text(tags)})\n"
        )


@app.command("remove-repository")
def remove_repository_command(
    name: NameArgument,
    repository: RepositoryArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    yes: YesOption = False,
) -> None:
    """Stop following a repository; its images and their findings are removed (admin)."""
    from rampart.report.escape import safe_text

    confirm(f"Remove repository {safe_text(repository)} of {safe_text(name)} and its images?", yes)
    with open_client(server, token) as client:
        client.remove_repository(name, repository)
    emit(f"removed repository {safe_text(repository)} from {safe_text(name)}\n")


@app.command("scan")
def scan_command(
    name: NameArgument,
    repository: Annotated[
        str | None, typer.Option("--repository", "-r", help="Only this repository.", show_default=False)
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Poll a registry now and wait: new or changed tags are scanned, vanished ones removed.

    Exits with status 1 when any repository had a failure.
    """
    from rampart.report.escape import safe_text

    with open_client(server, token) as client, _waiting(f"scanning {safe_text(name)}"):
        result = client.scan_registry(name, repository)
    if wants_json(output):
        emit_json(result)
    else:
        from rampart.report.image_table import render_registry_scan

        emit(render_registry_scan(result, width=width(), color=colour()))
    if not all(polled.ok for polled in result.repositories):
        raise typer.Exit(1)


@contextmanager
def _waiting(text: str) -> Iterator[None]:
    """A spinner on stderr while the server works, when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.text import Text

    with Console(stderr=True).status(Text(f"{text} (the server answers when every tag is done)")):
        yield
