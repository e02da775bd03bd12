"""``modprobe_disable``: make a kernel module unloadable through /etc/modprobe.d/rampart-<module>.conf
(``install <m> /bin/false`` and ``blacklist <m>``)."""

from __future__ import annotations

import re

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.fixes.base import FixType, current_text, image_refusal, read_current, write_atomic
from rampart.harden.view import SystemView


class ModprobeDisableParams(Params):
    module: str

    @field_validator("module")
    @classmethod
    def _module(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError(f"{value!r} is not a kernel module name")
        return value


def path_of(params: ModprobeDisableParams) -> str:
    return f"/etc/modprobe.d/rampart-{params.module}.conf"


def content(params: ModprobeDisableParams) -> str:
    return (
        f"# Written by rampart harden fix.\ninstall {params.module} /bin/false\nblacklist {params.module}\n"
    )


def plan(params: ModprobeDisableParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    if current_text(view, path_of(params)) == content(params):
        return []
    return [f"would write {path_of(params)} (install {params.module} /bin/false; blacklist {params.module})"]


def apply(params: ModprobeDisableParams, root: str) -> list[str]:
    if read_current(root, path_of(params)) == content(params):
        return []
    write_atomic(root, path_of(params), content(params))
    return [f"wrote {path_of(params)}"]


FIX = FixType("modprobe_disable", ModprobeDisableParams, plan, apply, "make a kernel module unloadable")
