"""``sysctl``: a kernel parameter's persisted value (sysctl.conf and sysctl.d, see facts.sysctl) and, on a live
system, its running value. Both must satisfy ``op value``; when they differ both are shown. A key the running
kernel does not have (IPv6 disabled, module not loaded) makes the check not applicable."""

from __future__ import annotations

from typing import Any, Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.sysctl import collapse, normalize_key, sysctl_config
from rampart.harden.model import Outcome

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"]
_NUMERIC = {"lt": int.__lt__, "le": int.__le__, "gt": int.__gt__, "ge": int.__ge__}


class SysctlParams(Params):
    name: str
    value: Any
    op: Op = "eq"
    persisted: bool = True


def _as_int(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def _equal(actual: str, wanted: Any) -> bool:
    left, right = _as_int(actual), _as_int(collapse(str(wanted)))
    return left == right if left is not None and right is not None else actual == collapse(str(wanted))


def satisfies(actual: str, op: Op, wanted: Any) -> bool:
    """Whether ``actual`` (a collapsed sysctl value) meets ``op wanted``; numbers compare as numbers."""
    if op in ("in", "not_in"):
        found = any(_equal(actual, item) for item in (wanted if isinstance(wanted, list) else [wanted]))
        return found if op == "in" else not found
    if op in ("eq", "ne"):
        return _equal(actual, wanted) if op == "eq" else not _equal(actual, wanted)
    left, right = _as_int(actual), _as_int(str(wanted))
    return left is not None and right is not None and _NUMERIC[op](left, right)


def _wanted(params: SysctlParams) -> str:
    symbol = {
        "eq": "=",
        "ne": "!=",
        "lt": "<",
        "le": "<=",
        "gt": ">",
        "ge": ">=",
        "in": "in",
        "not_in": "not in",
    }
    return f"{symbol[params.op]} {params.value}"


def _persisted(params: SysctlParams, name: str, context: Context) -> tuple[bool, str]:
    config = sysctl_config(context)
    found = config.lookup(name)
    if found is None:
        return False, f"{name}: not set in sysctl configuration (wanted {_wanted(params)})"
    ok = satisfies(found.value, params.op, params.value)
    return ok, f"{found.where}: {name} = {found.value}" + ("" if ok else f" (wanted {_wanted(params)})")


def evaluate(params: SysctlParams, context: Context) -> Outcome:
    name = normalize_key(params.name)
    running = context.runtime.sysctl(name) if context.runtime is not None else None
    if context.runtime is not None and running is None:
        return Outcome.not_applicable(
            f"the running kernel has no {name}", f"{name}: not in the running kernel"
        )
    results = [_persisted(params, name, context)] if params.persisted or running is None else []
    if running is not None:
        ok = satisfies(collapse(running), params.op, params.value)
        results.append(
            (ok, f"running: {name} = {collapse(running)}" + ("" if ok else f" (wanted {_wanted(params)})"))
        )
    else:
        results.append((True, "runtime not checked (offline target)"))
    evidence = [line for _, line in results] + list(sysctl_config(context).notes)
    return Outcome.passed(*evidence) if all(ok for ok, _ in results) else Outcome.failed(*evidence)


CHECK = CheckType(
    "sysctl", SysctlParams, evaluate, "a kernel parameter, as persisted in sysctl.d and as running"
)
