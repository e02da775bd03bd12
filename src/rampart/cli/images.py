"""``rampart images``: the registry images the server scanned, one in detail, and their findings.

An IMAGE argument is an image id or an exact reference (``registry.example.org/team/app:1.0``).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.findings import (
    AdvisoryOption,
    FindingStatus,
    PackageOption,
    SeverityOption,
    StatusOption,
    parse_severities,
)
from rampart.cli.remote import (
    FormatOption,
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

if TYPE_CHECKING:
    from rampart.client.api import ApiClient

app = typer.Typer(help="Registry images the server scanned, and their findings.", no_args_is_help=True)

RegistryOption = Annotated[
    str | None, typer.Option("--registry", help="Only images of this registry.", show_default=False)
]
_REFERENCE_MARKS = ("/", ":", "@")


class FindingsFormat(enum.StrEnum):
    """``auto`` is a table on a terminal and JSON when piped."""

    AUTO = "auto"
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def resolve_image(client: ApiClient, ref: str) -> str:
    """The id of the image ``ref`` names: an id as is, or the one image with exactly that reference."""
    if not any(mark in ref for mark in _REFERENCE_MARKS):
        return ref
    from rampart.report.escape import safe_text

    matches = [image.id for image in client.images(reference=ref)]
    if not matches:
        raise UsageError(f"no image with reference {safe_text(ref)!r}; see rampart images list")
    if len(matches) > 1:
        raise UsageError(
            f"reference {safe_text(ref)!r} names {len(matches)} images ({', '.join(matches)}); use an id"
        )
    return matches[0]


@app.command("list")
def list_command(
    registry: RegistryOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List images: reference, short digest, OS, packages, open findings by severity, scan time, error."""
    with open_client(server, token) as client:
        images = client.images(registry=registry)
    if wants_json(output):
        emit_json(images)
        return
    from rampart.report.image_table import render_images

    emit(render_images(images, datetime.now(UTC), width=width(), color=colour()))


@app.command("show")
def show_command(
    image: Annotated[str, typer.Argument(help="Image id or exact reference (host/repository:tag).")],
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Show one image in detail, then its packages with the layer that brought each."""
    with open_client(server, token) as client:
        image_id = resolve_image(client, image)
        found = client.image(image_id)
        packages = client.image_packages(image_id)
    if wants_json(output):
        emit_json({"image": found, "packages": packages})
        return
    from rampart.report.image_table import render_image

    emit(render_image(found, packages, datetime.now(UTC), width=width(), color=colour()))


@app.command("findings")
def findings_command(
    image: Annotated[
        str | None, typer.Option("--image", help="Image id or exact reference.", show_default=False)
    ] = None,
    registry: RegistryOption = None,
    severity: SeverityOption = None,
    package: PackageOption = None,
    advisory: AdvisoryOption = None,
    fixable: Annotated[
        bool | None,
        typer.Option(
            "--fixable/--no-fixable",
            help="Only findings with (or without) a fixed version.",
            show_default=False,
        ),
    ] = None,
    status: StatusOption = FindingStatus.OPEN,
    output: Annotated[
        FindingsFormat,
        typer.Option("--format", "-f", help="auto: a table on a terminal, JSON when piped; or csv."),
    ] = FindingsFormat.AUTO,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """List the findings of registry images, worst first (every page is fetched)."""
    from rampart.client.api import ImageFindingQuery

    query = ImageFindingQuery(
        parse_severities(severity), image, registry, package, advisory, fixable, status.value
    )
    with open_client(server, token) as client:
        findings = client.image_findings(query)
    if output is FindingsFormat.CSV:
        from rampart.report.findings_csv import render_image_findings_csv

        emit(render_image_findings_csv(findings))
    elif wants_json(OutputFormat(output.value)):
        emit_json(findings)
    else:
        from rampart.report.image_table import render_image_findings

        emit(render_image_findings(findings, width=width(), color=colour()))
