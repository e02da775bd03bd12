"""``rampart sbom``: inventory a target and write it as an SBOM (CycloneDX or SPDX), without matching."""

from __future__ import annotations

import enum
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.scan import (
    OPENED_KINDS,
    InsecureOption,
    PlatformOption,
    ScanTarget,
    TagOption,
    cyclic_gc_paused,
    opened_target,
    progress_bar,
)
from rampart.cli.settings import Settings, settings_of

if TYPE_CHECKING:
    from rampart.model import Inventory, ScanResult


class SbomFormat(enum.StrEnum):
    """SBOM document formats."""

    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


def sbom_command(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="Root of the tree to inventory: '/' for this host, or a directory; or 'image' / 'zip' REF."
        ),
    ] = "/",
    ref: Annotated[
        str | None,
        typer.Argument(
            help="With 'image': an OCI layout directory, oci-archive or docker save tarball, or a registry "
            "reference host/repo:tag; "
            "with 'zip': a function bundle (.zip).",
            show_default=False,
        ),
    ] = None,
    sbom_format: Annotated[
        SbomFormat, typer.Option("--format", "-f", help="cyclonedx (1.6 JSON) or spdx (2.3 JSON).")
    ] = SbomFormat.CYCLONEDX,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the SBOM to a file.")] = None,
    platform: PlatformOption = None,
    tag: TagOption = None,
    insecure: InsecureOption = False,
) -> None:
    """List the packages of this host, a root filesystem or an image as an SBOM (no advisory matching)."""
    settings = settings_of(ctx)
    with cyclic_gc_paused():
        inventory = _inventory(ScanTarget(target, ref, platform, tag, insecure), settings)
    text = render_sbom(inventory, sbom_format, datetime.now(UTC))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _inventory(what: ScanTarget, settings: Settings) -> Inventory:
    from rampart.errors import UsageError
    from rampart.inventory.collect import collect_inventory
    from rampart.target import open_target

    if what.ref is not None and what.target not in OPENED_KINDS:
        raise UsageError(f"unexpected argument {what.ref!r}: use `rampart sbom image REF` or `sbom zip FILE`")
    with progress_bar(settings) as progress:
        if what.ref is None:
            return collect_inventory(open_target(what.target), progress)
        with opened_target(what) as opened:
            return collect_inventory(opened, progress)


def render_sbom(inventory: Inventory, sbom_format: SbomFormat, now: datetime) -> str:
    """An inventory as an SBOM document in ``sbom_format``."""
    from rampart.model import ScanResult

    return render_result(ScanResult(inventory=inventory, findings=()), sbom_format, now)


def render_result(result: ScanResult, sbom_format: SbomFormat, now: datetime) -> str:
    """A scan result (its packages, and its findings as vulnerabilities where the format has them)."""
    if sbom_format is SbomFormat.SPDX:
        from rampart.report.spdx import render_spdx

        return render_spdx(result, now)
    from rampart.report.cyclonedx import render_cyclonedx

    return render_cyclonedx(result, now)
