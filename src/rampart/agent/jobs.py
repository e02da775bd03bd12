"""The agent's job table: what each job kind collects, as a result ready for the spool.

A job is a plain function from a `JobContext` to a `JobResult`; it only reads the host and never
talks to the server. Later scanners (images, hardening) plug in as new rows.

The file integrity job checks the host against its signed baseline (`rampart fim init` made it on the
host; the agent only ever holds the public key). A baseline that is missing, unreadable or fails
verification is itself the finding: the job uploads a refusal the server raises as an alarm.

The hardening job runs a profile (`rampart harden check`'s rules) over the host, live when the root is ``/``
(a `HostRuntime` answers the runtime questions), offline otherwise. A run that cannot be made (an unknown
profile, rules or a tailoring file that do not load) uploads the reason instead, so the server shows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rampart.errors import FimError, RampartError
from rampart.fim.model import CheckResult
from rampart.fleet.fimresult import build_fim_result
from rampart.fleet.hardenresult import error_document, from_report
from rampart.fleet.inventory import build_inventory
from rampart.inventory.collect import collect_inventory
from rampart.target.factory import open_target

if TYPE_CHECKING:
    from rampart.fim.baseline import Baseline
    from rampart.harden.model import HardenReport
    from rampart.harden.view import SystemView

DEFAULT_HARDEN_PROFILE = "debian12-l1-server"


@dataclass(frozen=True)
class JobContext:
    """What a job may look at: the root filesystem to read, and the job id when one was requested.

    ``fim_baseline`` and ``fim_verify_key`` name the file integrity baseline and its public key
    (None: `rampart fim`'s defaults).
    """

    root: Path
    job_id: str | None = None
    workers: int | None = None
    fim_baseline: Path | None = None
    fim_verify_key: Path | None = None
    harden_profile: str = DEFAULT_HARDEN_PROFILE
    harden_tailoring: Path | None = None


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


def fim_paths(context: JobContext) -> tuple[Path, Path]:
    """The baseline and verify key the fim job uses: the context's, else `rampart fim`'s defaults."""
    from rampart.fim.baseline import default_baseline_path
    from rampart.fim.signing import default_verify_key

    return context.fim_baseline or default_baseline_path(), context.fim_verify_key or default_verify_key()


def fim_job(context: JobContext) -> JobResult:
    """The host checked against its signed baseline; a refusal instead when no trusted baseline exists."""
    result_id = str(uuid.uuid4())
    baseline, verify_key = fim_paths(context)
    try:
        result, about = _fim_check(baseline, verify_key, context.workers)
    except FimError as error:  # missing, unreadable or refused baseline or key: no check was made
        refusal = build_fim_result(None, {}, result_id, context.job_id, datetime.now(UTC), error.message)
        return JobResult(result_id, "fim", refusal)
    payload = build_fim_result(result, about, result_id, context.job_id, datetime.now(UTC))
    return JobResult(result_id, "fim", payload)


def open_fim_baseline(baseline: Path, verify_key: Path) -> Baseline:
    """The baseline, verified as `rampart fim check` verifies it; `FimError` when there is none to trust."""
    from rampart.fim import lifecycle
    from rampart.fim.signing import load_verifier

    if not (baseline.exists() or baseline.is_symlink()):
        raise FimError(f"no fim baseline at {baseline}: run `rampart fim init` on the host")
    return lifecycle.open_verified(baseline, load_verifier(verify_key))


def _fim_check(baseline: Path, verify_key: Path, workers: int | None) -> tuple[CheckResult, dict[str, str]]:
    """The check of a verified baseline and what names that baseline; `FimError` when none can be made."""
    from rampart.fim import lifecycle

    opened = open_fim_baseline(baseline, verify_key)
    result = lifecycle.check(opened, full=False, workers=workers, progress=None, packages=True)
    about = {"created": opened.header.created, "digest": opened.digest, "key_id": opened.header.key_id}
    return result, about


def harden_job(context: JobContext) -> JobResult:
    """The host checked against a hardening profile; the reason instead when no run could be made."""
    result_id, started = str(uuid.uuid4()), datetime.now(UTC)
    try:
        report = run_harden(context)
    except (RampartError, OSError, ValueError) as error:
        message = error.message if isinstance(error, RampartError) else str(error) or type(error).__name__
        payload = error_document(context.harden_profile, message, result_id, context.job_id, started)
        return JobResult(result_id, "harden", payload)
    return JobResult(result_id, "harden", from_report(report, result_id, context.job_id))


def run_harden(context: JobContext) -> HardenReport:
    """Run the context's profile (with its tailoring file, if any) over the context's root."""
    from rampart.harden.engine import run_profile
    from rampart.harden.profiles import load_profile
    from rampart.harden.ruleset import load_rules

    profile = load_profile(context.harden_profile, load_rules(), context.harden_tailoring)
    return run_profile(profile, harden_view(context.root))


def harden_view(root: Path) -> SystemView:
    """The live host for ``/`` (its runtime read through `HostRuntime`), else the directory, offline."""
    from rampart.harden.rootview import RootView

    if root.resolve() != Path("/"):
        return RootView(str(root))
    try:
        from rampart.harden.hostruntime import HostRuntime
    except ImportError as error:  # an agent built without the live runtime: refuse rather than judge half
        raise RampartError(f"live host checks are not available in this agent ({error})") from None
    return RootView("/", HostRuntime())


JOBS: Mapping[str, Callable[[JobContext], JobResult]] = {
    "inventory": inventory_job,
    "fim": fim_job,
    "harden": harden_job,
}
