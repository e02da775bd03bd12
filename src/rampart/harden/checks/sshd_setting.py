"""``sshd_setting``: one keyword of the effective sshd configuration (facts/sshd.py) compared with what a rule wants.

Parameters: ``key`` (case-insensitive), ``op`` (eq ne lt le gt ge in not_in regex present absent; ``none_of``
for comma lists such as Ciphers/MACs/KexAlgorithms, where ``+``/``-``/``^`` lists are applied to ``default``;
``startups_within`` for MaxStartups ``start:rate:full``: start and full at most, rate at least the value's),
``value``, ``default`` (sshd's built-in value when the keyword is unset) and ``missing`` (no sshd_config:
``na``, ``fail`` or ``defaults``). Values compare case-insensitively; time values (``1m30s``) as seconds.
On a live host ``sshd -T`` (when the runtime offers it) must agree with the persisted value.
"""

from __future__ import annotations

import re
from typing import Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.facts.sshd import SshdConfig, parse_sshd_t, sshd_config
from rampart.harden.facts.values import compare
from rampart.harden.model import Outcome

TIME_KEYS = frozenset({"logingracetime", "clientaliveinterval"})
ALIASES = {"without-password": "prohibit-password"}
_TIME = re.compile(r"(\d{1,9})([smhdwSMHDW]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
Value = str | int | float | bool | list[str | int] | None


class SshdSettingParams(Params):
    key: str
    op: Literal[
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "in",
        "not_in",
        "regex",
        "present",
        "absent",
        "none_of",
        "startups_within",
    ] = "eq"
    value: Value = None
    default: str | int | None = None
    missing: Literal["na", "fail", "defaults"] = "na"


def seconds(text: str) -> str:
    """An sshd time value (``90``, ``1m30s``) in seconds, or the text unchanged when it is not one."""
    parts = _TIME.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        return text
    return str(sum(int(number) * _UNITS[unit.lower()] for number, unit in parts))


def normal(key: str, value: str) -> str:
    value = value.strip().lower()
    value = seconds(value) if key in TIME_KEYS else value
    return ALIASES.get(value, value)


def effective_list(value: str, default: str) -> list[str]:
    """A Ciphers-style list as sshd applies it: ``+`` appends to, ``-`` removes from, ``^`` prepends to the default."""
    items = [item for item in value.lower().split(",") if item]
    base = [item for item in default.lower().split(",") if item]
    if value[:1] in "+^" and value:
        added = [item.lstrip("+^") for item in items]
        return [*base, *added] if value[0] == "+" else [*added, *base]
    if value[:1] == "-":
        removed = {item.lstrip("-") for item in items}
        return [item for item in base if item not in removed]
    return items


def _startups(text: str) -> tuple[int, int, int] | None:
    parts = text.split(":")
    if not all(part.isdigit() and len(part) < 10 for part in parts) or len(parts) not in (1, 3):
        return None
    numbers = [int(part) for part in parts]
    return (numbers[0], 100, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1], numbers[2])


def judge(params: SshdSettingParams, actual: str) -> tuple[bool, str]:
    """Whether ``actual`` satisfies the rule, and a note naming what offends (for list checks)."""
    if params.op == "none_of":
        weak = {
            str(item).lower() for item in (params.value if isinstance(params.value, list) else [params.value])
        }
        found = [item for item in effective_list(actual, str(params.default or "")) if item in weak]
        return not found, f"weak: {', '.join(found)}" if found else ""
    if params.op == "startups_within":
        have, limit = _startups(actual), _startups(str(params.value))
        if have is None or limit is None:
            return False, "not start:rate:full numbers"
        return have[0] <= limit[0] and have[1] >= limit[1] and have[2] <= limit[2], ""
    key = params.key.lower()
    expected = params.value
    if isinstance(expected, str):
        expected = normal(key, expected)
    elif isinstance(expected, list):
        expected = [normal(key, item) if isinstance(item, str) else item for item in expected]
    return compare(normal(key, actual), params.op, expected), ""


def _expectation(params: SshdSettingParams) -> str:
    value = ", ".join(str(item) for item in params.value) if isinstance(params.value, list) else params.value
    return (
        f"expected {params.op.replace('_', ' ')} {value}"
        if params.value is not None
        else f"expected {params.op}"
    )


def _persisted(params: SshdSettingParams, config: SshdConfig) -> tuple[str | None, list[str]]:
    key = params.key.lower()
    setting = config.settings.get(key)
    lines = [
        f"{shown(where)}: also set, ignored (first value wins)" for where in config.ignored.get(key, [])[:5]
    ]
    lines += [
        f"{shown(where)}: set inside a Match block (not the global value)"
        for where in config.matched.get(key, [])[:5]
    ]
    if setting is not None:
        return setting.value, [f"{shown(setting.where)}: {params.key} {shown(setting.value)}", *lines]
    if params.default is not None:
        return str(params.default), [f"{params.key} not set; sshd default {params.default}", *lines]
    return None, [f"{params.key} not set", *lines]


def _runtime(params: SshdSettingParams, context: Context, persisted: str | None) -> tuple[bool, list[str]]:
    if context.runtime is None:
        return True, ["runtime not checked (offline target)"]
    output = context.runtime.command("sshd -T")
    if output is None:
        return True, ["runtime not checked (sshd -T unavailable)"]
    running = parse_sshd_t(output).get(params.key.lower())
    if running is None:
        return True, [f"sshd -T does not show {params.key}"]
    same = persisted is None or normal(params.key.lower(), running) == normal(params.key.lower(), persisted)
    ok, note = judge(params, running)
    text = f"sshd -T: {params.key.lower()} {shown(running)}" + ("" if same else " (differs from the files)")
    return ok and same, [text + (f" ({note})" if note else "")]


def evaluate(params: SshdSettingParams, context: Context) -> Outcome:
    config = sshd_config(context)
    if not config.present and params.missing != "defaults":
        if params.missing == "na":
            return Outcome.not_applicable("no /etc/ssh/sshd_config", *config.notes[:5])
        return Outcome.failed("/etc/ssh/sshd_config: missing", *config.notes[:5])
    actual, evidence = _persisted(params, config)
    if actual is None:
        ok, note = params.op == "absent", ""
    else:
        ok, note = (False, "") if params.op == "absent" else judge(params, actual)
    evidence.append(_expectation(params) + (f"; {note}" if note else ""))
    live_ok, live = _runtime(params, context, actual)
    lines = (*evidence, *live, *config.notes[:5])
    return Outcome.passed(*lines) if ok and live_ok else Outcome.failed(*lines)


CHECK = CheckType(
    "sshd_setting", SshdSettingParams, evaluate, "a keyword of the effective sshd configuration"
)
