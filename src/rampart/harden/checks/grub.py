"""``grub``: the GRUB bootloader's password protection and kernel command line.

``assert: password_set`` wants ``set superusers=`` and a ``password``/``password_pbkdf2`` entry in
/boot/grub/grub.cfg (the hash is never shown). ``assert: kernel_arg`` wants ``arg`` (``apparmor=1``, or a name
like ``audit_backlog_limit`` with ``op``/``value``) on every ``linux`` line of grub.cfg and in the persisted
GRUB_CMDLINE_LINUX(_DEFAULT) of /etc/default/grub and /etc/default/grub.d/*.cfg (so update-grub keeps it); on a
live system /proc/cmdline is checked too. A target without GRUB is na.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import Line, gather, logical_lines, printable
from rampart.harden.facts.values import Op, compare, describe
from rampart.harden.model import Outcome
from rampart.harden.view import ViewError

GRUB_CFG = "/boot/grub/grub.cfg"
DEFAULTS = ["/etc/default/grub", "/etc/default/grub.d/*.cfg"]
_LINUX = re.compile(r"^\s*linux(?:16|efi)?\s+\S+(.*)$")
_ASSIGN = re.compile(r"^\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(.*)$")


class GrubParams(Params):
    assert_: Literal["password_set", "kernel_arg"] = Field(alias="assert")
    arg: str | None = None
    op: Op | None = None
    value: Any = None


def evaluate(params: GrubParams, context: Context) -> Outcome:
    cfg = gather(context.view, [GRUB_CFG])
    defaults = gather(context.view, DEFAULTS)
    unreadable = cfg.unreadable + defaults.unreadable
    if unreadable:
        return Outcome.errored(unreadable[0], *unreadable[1:])
    if not cfg.texts and not defaults.texts:
        return Outcome.not_applicable("no GRUB bootloader")
    cfg_lines = [line for path, text in cfg.texts for line in logical_lines(path, text)]
    if params.assert_ == "password_set":
        return _password(cfg_lines) if cfg.texts else Outcome.not_applicable(f"{GRUB_CFG}: not present")
    return _kernel_arg(params, cfg_lines, defaults.texts, context)


def _password(lines: list[Line]) -> Outcome:
    users = [line for line in lines if re.match(r"^\s*set\s+superusers\s*=\s*\S", line.text)]
    words = [line for line in lines if re.match(r"^\s*password(?:_pbkdf2)?\s+\S+\s+\S", line.text)]
    found = [f"{line.where}: superusers set" for line in users[:1]]
    found += [
        f"{line.where}: {line.text.split()[0]} for user {printable(line.text.split()[1])} (hash not shown)"
        for line in words[:3]
    ]
    if users and words:
        return Outcome.passed(*found)
    missing = "no 'set superusers'" if not users else "no password entry"
    return Outcome.failed(f"{GRUB_CFG}: {missing}", *found)


def _wanted(params: GrubParams) -> tuple[str, Op, Any]:
    arg = str(params.arg or "")
    if not arg:
        raise ValueError("kernel_arg needs 'arg'")
    name, has_value, value = arg.partition("=")
    if params.op is not None:
        return name, params.op, params.value
    return (name, "eq", value) if has_value else (name, "present", None)


def arg_value(cmdline: str, name: str) -> str | None:
    """The last value given to ``name`` on a kernel command line ("" for a bare flag), None when absent."""
    found = None
    for word in cmdline.split():
        key, has_value, value = word.partition("=")
        if key == name:
            found = value if has_value else ""
    return found


def _satisfied(cmdline: str, wanted: tuple[str, Op, Any]) -> bool:
    name, op, expected = wanted
    value = arg_value(cmdline, name)
    if op == "absent":
        return value is None
    return value is not None and compare(value, op, expected)


def _kernel_arg(
    params: GrubParams, cfg: list[Line], defaults: list[tuple[str, str]], context: Context
) -> Outcome:
    wanted = _wanted(params)
    text = f"{wanted[0]} {describe(wanted[1], wanted[2])}"
    bad: list[str] = []
    good: list[str] = []
    for line in cfg:
        match = _LINUX.match(line.text)
        if match:
            (good if _satisfied(match.group(1), wanted) else bad).append(f"{line.where}: linux line")
    for name, value, where in persisted(defaults):
        (good if _satisfied(value, wanted) else bad).append(f"{where}: {name}")
    runtime = _runtime(wanted, context)
    if runtime is not None:
        (good if runtime[1] else bad).append(runtime[0])
    if bad:
        return Outcome.failed(*(f"{item} lacks {text}" for item in bad[:10]))
    if not good:
        return Outcome.failed(f"no kernel command line found with {text}")
    note = [] if context.live else ["runtime not checked (offline target)"]
    return Outcome.passed(*(f"{item} has {text}" for item in good[:10]), *note)


def persisted(defaults: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(variable, value, file:line) of the effective GRUB_CMDLINE_LINUX and _DEFAULT (last assignment wins)."""
    values: dict[str, tuple[str, str]] = {}
    for path, text in defaults:
        for line in logical_lines(path, text):
            match = _ASSIGN.match(line.text)
            if match:
                before = {name: value for name, (value, _) in values.items()}
                values[match.group(1)] = (_shell_value(match.group(2), before), line.where)
    if "GRUB_CMDLINE_LINUX" not in values and "GRUB_CMDLINE_LINUX_DEFAULT" not in values:
        return []
    merged = " ".join(
        values.get(name, ("", ""))[0] for name in ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
    )
    where = ", ".join(sorted({where for _, where in values.values()}))
    return [("GRUB_CMDLINE_LINUX(_DEFAULT)", merged, where)]


def _shell_value(raw: str, variables: dict[str, str]) -> str:
    """A shell assignment's value with quotes removed and $VAR / ${VAR} of earlier assignments expanded."""
    try:
        words = shlex.split(raw, comments=True)
    except ValueError:
        words = raw.split()
    text = " ".join(words)
    return re.sub(r"\$\{?(\w+)\}?", lambda match: variables.get(match.group(1), ""), text)


def _runtime(wanted: tuple[str, Op, Any], context: Context) -> tuple[str, bool] | None:
    """("/proc/cmdline ...", satisfied) on a live system that shows its kernel command line."""
    if not context.live:
        return None
    try:
        cmdline = context.view.read_text("/proc/cmdline")
    except ViewError:
        return None
    return None if cmdline is None else ("/proc/cmdline (running kernel)", _satisfied(cmdline, wanted))


CHECK = CheckType("grub", GrubParams, evaluate, "GRUB password and kernel command line arguments")
