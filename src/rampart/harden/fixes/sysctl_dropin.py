"""``sysctl_dropin``: persist a kernel parameter in /etc/sysctl.d/99-rampart.conf (read last, so it wins), and on the
live host (root ``/``) set it now with ``sysctl -w``."""

from __future__ import annotations

import re
import subprocess

from pydantic import field_validator

from rampart.harden.checks.base import Params
from rampart.harden.fixes.base import FixType, current_text, image_refusal, read_current, write_atomic
from rampart.harden.fixes.set_config import render, set_line
from rampart.harden.view import SystemView

DROPIN = "/etc/sysctl.d/99-rampart.conf"
HEADER = "# Written by rampart harden fix.\n"
SYSCTL = "/usr/sbin/sysctl"
TIMEOUT = 10


class SysctlDropinParams(Params):
    name: str
    value: str | int

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_][a-z0-9_.\-/*]{0,127}", value):
            raise ValueError(f"{value!r} is not a kernel parameter name")
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | int) -> str | int:
        if isinstance(value, str) and not re.fullmatch(r"[\w .:,/-]{0,256}", value):
            raise ValueError(f"{value!r} is not a plain kernel parameter value")
        return value


def _updated(before: str | None, params: SysctlDropinParams) -> str:
    return set_line(before or HEADER, params.name, render(params.name, params.value, " = "), "=")


def plan(params: SysctlDropinParams, view: SystemView) -> list[str]:
    refusal = image_refusal(view)
    if refusal:
        return refusal
    before = current_text(view, DROPIN)
    lines = (
        []
        if before is not None and _updated(before, params) == before
        else [f"would set {params.name} = {params.value} in {DROPIN}"]
    )
    if view.runtime is not None:
        lines.append(f"would run: sysctl -w {params.name}={params.value}")
    return lines


def run_sysctl(name: str, value: str | int) -> str:
    """Set the parameter in the running kernel (argv only, no shell)."""
    done = subprocess.run(
        [SYSCTL, "-w", f"{name}={value}"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    return f"ran sysctl -w {name}={value}" + (
        "" if done.returncode == 0 else f" (failed: {done.stderr.strip()[:200]})"
    )


def apply(params: SysctlDropinParams, root: str) -> list[str]:
    before = read_current(root, DROPIN)
    after = _updated(before, params)
    done = []
    if after != before:
        write_atomic(root, DROPIN, after)
        done.append(f"set {params.name} = {params.value} in {DROPIN}")
    if root.rstrip("/") == "":
        done.append(run_sysctl(params.name, params.value))
    return done


FIX = FixType(
    "sysctl_dropin", SysctlDropinParams, plan, apply, "persist a kernel parameter (and set it when live)"
)
