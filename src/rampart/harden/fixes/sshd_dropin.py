"""``sshd_dropin``: set an sshd keyword in /etc/ssh/sshd_config.d/00-rampart.conf. sshd takes the first value it
reads, and Debian's sshd_config includes sshd_config.d/*.conf at its top, so the ``00-`` file wins."""

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
        if not re.fullmatch(r"[A-Za-z]{1,64}", value):
            raise ValueError(f"{value!r} is not an sshd keyword")
        return value


def _updated(before: str | None, params: SshdDropinParams) -> str:
    return set_line(
        before or HEADER, params.key, render(params.key, params.value, "whitespace"), "whitespace"
    )


def plan(params: SshdDropinParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    before = current_text(view, DROPIN)
    if before is not None and _updated(before, params) == before:
        return []
    notes = []
    main = current_text(view, "/etc/ssh/sshd_config") or ""
    if not re.search(r"(?im)^\s*Include\s+\S*sshd_config\.d", main):
        notes.append(
            "note: /etc/ssh/sshd_config does not include sshd_config.d/*.conf; add 'Include' at its top"
        )
    return [f"would set '{params.key} {params.value}' in {DROPIN}", *notes]


def apply(params: SshdDropinParams, root: str) -> list[str]:
    before = read_current(root, DROPIN)
    after = _updated(before, params)
    if after == before:
        return []
    write_atomic(root, DROPIN, after, 0o600)
    return [f"set '{params.key} {params.value}' in {DROPIN} (reload sshd to use it)"]


FIX = FixType("sshd_dropin", SshdDropinParams, plan, apply, "set an sshd keyword in a rampart drop-in file")
