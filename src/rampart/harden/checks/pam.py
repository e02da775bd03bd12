"""``pam``: a module's presence and arguments in an expanded PAM stack (facts/pam.py).

Parameters: ``file`` (/etc/pam.d/common-auth; includes followed), ``module`` (pam_faillock.so; a path matches by
its base name), ``stack`` (the module type: auth|account|password|session, or null for any; named ``stack`` because
``type`` names the check in a rule), ``present`` (default true),
``args`` ({name: "op value" | true}: ops ``>= <= > < == !=``, several joined with `` and ``; true means the
flag or ``name=...`` is there), ``absent_args`` (names that must not appear), ``config`` (option files the
module reads, globs in the order they apply, a later file winning: faillock.conf, pwquality.conf.d/*.conf then
pwquality.conf; an argument on the module line beats them), ``defaults`` (the module's documented value when
neither sets it), ``missing`` (na|fail when ``file`` does not exist; default na). Every matching line must
satisfy the arguments.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.accounts import shown
from rampart.harden.facts.pam import Options, PamLine, option_file, pam_stack
from rampart.harden.facts.values import as_number
from rampart.harden.model import Outcome

_CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(.*?)\s*$")


class PamParams(Params):
    file: str
    module: str
    stack: Literal["auth", "account", "password", "session"] | None = None
    present: bool = True
    args: dict[str, str | int | bool] = Field(default_factory=dict)
    absent_args: list[str] = Field(default_factory=list)
    config: list[str] = Field(default_factory=list)
    defaults: dict[str, str | int] = Field(default_factory=dict)
    missing: Literal["na", "fail"] = "na"


def satisfies(value: str, condition: str | int | bool) -> bool:
    """Whether an argument's value meets ``condition`` (``">= 24"``, ``"> 0 and <= 3"``, ``true``, ``7``)."""
    if condition is True:
        return True
    if condition is False:
        return False
    return all(_one(value, part) for part in str(condition).split(" and "))


def _one(value: str, condition: str) -> bool:
    match = _CONDITION.match(condition)
    op, expected = (match.group(1) or "==", match.group(2)) if match else ("==", condition)
    left, right = as_number(value), as_number(expected)
    if left is None or right is None:
        return {"==": value == expected, "=": value == expected, "!=": value != expected}.get(op, False)
    table = {
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
        "!=": left != right,
    }
    return table.get(op, left == right)


def _value(line: PamLine, name: str, options: Options, params: PamParams) -> tuple[str | None, str]:
    on_line = line.arg(name)
    if on_line is not None:
        return on_line, shown(line.where)
    if name in options.values:
        value, where = options.values[name]
        return value, shown(where)
    if name in params.defaults:
        return str(params.defaults[name]), "module default"
    return None, ""


def _line_problems(line: PamLine, options: Options, params: PamParams) -> list[str]:
    problems = []
    for name, condition in params.args.items():
        value, source = _value(line, name, options, params)
        if value is None:
            problems.append(f"{shown(line.where)}: {params.module} has no {shown(name)} (wanted {condition})")
        elif not satisfies(value, condition):
            problems.append(f"{source}: {shown(name)}={shown(value)} (wanted {condition})")
    for name in params.absent_args:
        if line.arg(name) is not None:
            problems.append(f"{shown(line.where)}: {params.module} has {shown(name)}")
    return problems


def _matching(params: PamParams, context: Context) -> tuple[list[PamLine], list[str]]:
    stack = pam_stack(context, params.file)
    lines = [
        line
        for line in stack.lines
        if line.module_name == params.module.rsplit("/", 1)[-1] and params.stack in (None, line.type)
    ]
    return lines, stack.notes[:5]


def _described(line: PamLine) -> str:
    return shown(
        f"{line.where}: {line.type} {line.control} {line.module} {' '.join(line.args)}".rstrip(), 160
    )


def evaluate(params: PamParams, context: Context) -> Outcome:
    if not pam_stack(context, params.file).present:
        reason = f"{shown(params.file)}: missing"
        return Outcome.not_applicable(reason) if params.missing == "na" else Outcome.failed(reason)
    lines, notes = _matching(params, context)
    where = f"{params.stack or 'any'} stack of {shown(params.file)}"
    if not params.present:
        found = [_described(line) for line in lines]
        return (
            Outcome.failed(*found, *notes)
            if found
            else Outcome.passed(f"{params.module} not in the {where}", *notes)
        )
    if not lines:
        return Outcome.failed(f"{params.module} not in the {where}", *notes)
    options = option_file(context, tuple(params.config)) if params.config else Options()
    problems = [problem for line in lines for problem in _line_problems(line, options, params)]
    shown_lines = [_described(line) for line in lines[:5]]
    if problems:
        return Outcome.failed(*problems, *shown_lines, *notes, *options.notes[:3])
    return Outcome.passed(*shown_lines, *_sources(params, lines[0], options), *notes)


def _sources(params: PamParams, line: PamLine, options: Options) -> list[str]:
    lines = []
    for name in params.args:
        value, source = _value(line, name, options, params)
        if source and not source.startswith(shown(line.where)):
            lines.append(f"{source}: {shown(name)}={shown(value or '')}")
    return lines


CHECK = CheckType("pam", PamParams, evaluate, "a PAM module's presence and arguments in an expanded stack")
