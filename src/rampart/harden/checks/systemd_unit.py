"""``systemd_unit``: each of ``units`` is (or is not) enabled and active. Enablement comes from the unit files
and links (facts.units: masked, enabled, static, disabled, not-found); ``active`` from runtime.unit_state on a live
system. Offline, or when the live system's service manager cannot be asked, ``active`` is not checked and the
evidence says so. A unit found nowhere is judged by ``missing``; the check passes when every unit satisfies it."""

from __future__ import annotations

from typing import Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.units import unit_state
from rampart.harden.model import Outcome, Status

ENABLED_STATES = frozenset(
    {"enabled", "enabled-runtime", "static", "indirect", "generated", "alias", "linked"}
)
ACTIVE_STATES = frozenset({"active", "activating", "reloading", "refreshing"})
MISSING = {"pass": Status.PASS, "na": Status.NA, "fail": Status.FAIL}


class SystemdUnitParams(Params):
    units: list[str]
    enabled: bool | None = None
    active: bool | None = None
    missing: Literal["pass", "na", "fail"] = "na"


def _active_state(context: Context, unit: str) -> str | None:
    """The running state (active, inactive, ...), or None when it cannot be known."""
    if context.runtime is None:
        return None
    state = context.runtime.unit_state(unit)
    return None if state.active == "unknown" else state.active


def _unit(params: SystemdUnitParams, context: Context, unit: str) -> tuple[Status, str]:
    files = unit_state(context, unit)
    active = _active_state(context, unit)
    if files.state == "not-found" and active in (None, "inactive"):
        return MISSING[params.missing], f"{unit}: no unit file"
    line = f"{unit}: {files.state}" + (f" ({files.where})" if files.where else "")
    ok = params.enabled is None or (files.state in ENABLED_STATES) == params.enabled
    if active is not None:
        line += f", {active}"
        ok = ok and (params.active is None or (active in ACTIVE_STATES) == params.active)
    return (Status.PASS if ok else Status.FAIL), line


def _runtime_note(params: SystemdUnitParams, context: Context) -> list[str]:
    if params.active is None:
        return []
    if context.runtime is None:
        return ["active state not checked (offline target)"]
    if context.runtime.unit_state(params.units[0]).active == "unknown":
        return ["active state not checked (the service manager cannot be asked)"]
    return []


def evaluate(params: SystemdUnitParams, context: Context) -> Outcome:
    prefetch = getattr(context.runtime, "prefetch_units", None)
    if callable(prefetch):
        prefetch(params.units)
    results = [_unit(params, context, unit) for unit in params.units]
    evidence = [line for _, line in results] + _runtime_note(params, context)
    statuses = {status for status, _ in results}
    if Status.FAIL in statuses:
        return Outcome.failed(*evidence)
    if statuses == {Status.NA}:
        return Outcome.not_applicable(f"no unit file for {', '.join(params.units)}", *evidence)
    return Outcome.passed(*evidence)


CHECK = CheckType(
    "systemd_unit", SystemdUnitParams, evaluate, "systemd units are (not) enabled and (not) running"
)
