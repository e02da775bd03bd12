"""``sshd_dropin``: set an sshd keyword where sshd reads it first. sshd takes the first value it reads; Debian's
sshd_config includes sshd_config.d/*.conf at its top, so /etc/ssh/sshd_config.d/00-rampart.conf wins, unless
sshd_config itself sets the keyword before that Include (or includes no drop-ins): then that line is changed."""

from __future__ import annotations

import re

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.fixes.base import FixType, current_text, image_refusal, read_current, write_atomic
from rampart.harden.fixes.set_config import render, set_line
from rampart.harden.view import SystemView

DROPIN = "/etc/ssh/sshd_config.d/00-rampart.conf"
HEADER = "# Written by rampart harden fix: the first value sshd reads wins.\n"


class SshdDropinParams(Params):
    key: str
    value: str | int

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,63}", value):
            raise ValueError(f"{value!r} is not an sshd keyword")
        return value


def _updated(before: str | None, params: SshdDropinParams) -> str:
    return set_line(
        before or HEADER, params.key, render(params.key, params.value, "whitespace"), "whitespace"
    )


MAIN = "/etc/ssh/sshd_config"
_INCLUDE = re.compile(r"(?i)^\s*Include\s+\S*sshd_config\.d")
_MATCH = re.compile(r"(?i)^\s*Match\s")


def _main_line(lines: list[str], key: str) -> int | None:
    """Where sshd_config itself sets ``key`` before its drop-ins are read (before the Include, outside Match)."""
    keyword = re.compile(rf"(?i)^\s*{key}(\s|=)")
    for index, line in enumerate(lines):
        if _INCLUDE.match(line) or _MATCH.match(line):
            return None
        if keyword.match(line):
            return index
    return None


def _main_edit(main: str | None, params: SshdDropinParams) -> str | None:
    """The new sshd_config when the value must go there (it sets the key first, or includes no drop-ins)."""
    if main is None:
        return None
    lines = main.splitlines(keepends=True)
    wanted = render(params.key, params.value, "whitespace") + "\n"
    found = _main_line(lines, params.key)
    if found is not None:
        lines[found] = wanted
        return "".join(lines)
    if any(_INCLUDE.match(line) for line in lines):
        return None
    return HEADER + wanted + "".join(lines)


def plan(params: SshdDropinParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    main = current_text(view, MAIN)
    edited = _main_edit(main, params)
    if edited is not None:
        return (
            []
            if edited == main
            else [f"would set '{params.key} {params.value}' in {MAIN} (it is read first)"]
        )
    before = current_text(view, DROPIN)
    if before is not None and _updated(before, params) == before:
        return []
    return [f"would set '{params.key} {params.value}' in {DROPIN}"]


def apply(params: SshdDropinParams, root: str) -> list[str]:
    main = read_current(root, MAIN)
    edited = _main_edit(main, params)
    if edited is not None:
        if edited == main:
            return []
        write_atomic(root, MAIN, edited, 0o600)
        return [f"set '{params.key} {params.value}' in {MAIN} (reload sshd to use it)"]
    before = read_current(root, DROPIN)
    after = _updated(before, params)
    if after == before:
        return []
    write_atomic(root, DROPIN, after, 0o600)
    return [f"set '{params.key} {params.value}' in {DROPIN} (reload sshd to use it)"]


FIX = FixType("sshd_dropin", SshdDropinParams, plan, apply, "set an sshd keyword where sshd reads it first")
