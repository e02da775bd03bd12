"""The agent's job table: what each job kind collects, as a result ready for the spool.

A job is a plain function from a `JobContext` to a `JobResult`; it only reads the host and never
talks to the server. Later scanners (images, file integrity, hardening) plug in as new rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rampart.fleet.inventory import build_inventory
from rampart.inventory.collect import collect_inventory
from rampart.target.factory import open_target


@dataclass(frozen=True)
class JobContext:
    """What a job may look at: the root filesystem to read, and the job id when one was requested."""

    root: Path
    job_id: str | None = None
    workers: int | None = None


@dataclass(frozen=True)
class JobResult:
    """One spoolable result: its idempotency id, the result kind the server handles, and the bytes."""

    id: str
    kind: str
    payload: bytes


def inventory_job(context: JobContext) -> JobResult:
    """Every package on the host; the server matches them against its advisory database."""
    result_id = str(uuid.uuid4())
    target = open_target(context.root)
    inventory = collect_inventory(target, workers=context.workers)
    warnings = [f"{len(inventory.errors)} files could not be read"] if inventory.errors else []
    payload = build_inventory(
        inventory.packages,
        inventory.os,
        warnings,
        inventory.errors,
        result_id,
        context.job_id,
        datetime.now(UTC),
    )
    return JobResult(result_id, "inventory", payload)


JOBS: Mapping[str, Callable[[JobContext], JobResult]] = {
    "inventory": inventory_job,
}
