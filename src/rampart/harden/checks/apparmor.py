"""``apparmor``: the loaded AppArmor profiles are all in enforce or complain mode (``profiles_enforce_or_complain``)
or all enforcing (``profiles_enforce``), and no process that has a profile runs unconfined.

Runtime only: the answer comes from ``apparmor_status`` (runtime.command) or, failing that, from
/sys/kernel/security/apparmor/profiles read through the view. Offline targets are na.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.lines import printable
from rampart.harden.model import Outcome
from rampart.harden.view import ViewError

PROFILES = "/sys/kernel/security/apparmor/profiles"
_COUNT = re.compile(r"^\s*(\d{1,9}) (profiles?|process(?:es)?) (?:are|is) (.*?)\.?\s*$")
_PROFILE = re.compile(r"^(.+) \((\w+)\)\s*$")


class AppArmorParams(Params):
    assert_: Literal["profiles_enforce_or_complain", "profiles_enforce"] = Field(alias="assert")


@dataclass
class Status:
    """Profile counts by mode, and processes unconfined although a profile exists for them."""

    loaded: int = 0
    modes: dict[str, int] = field(default_factory=dict)
    unconfined_processes: int = 0
    source: str = ""


def parse_status(text: str) -> Status:
    """The counts of ``apparmor_status`` output; unknown lines are ignored."""
    status = Status(source="apparmor_status")
    for line in text.splitlines():
        match = _COUNT.match(line)
        if not match:
            continue
        count, what, rest = int(match.group(1)), match.group(2), match.group(3)
        if what.startswith("profile"):
            _profile_count(status, count, rest)
        elif rest.startswith("unconfined but have a profile defined"):
            status.unconfined_processes = count
    return status


def _profile_count(status: Status, count: int, rest: str) -> None:
    if rest == "loaded":
        status.loaded = count
        return
    mode = re.match(r"in (\w+) mode", rest)
    if mode:
        status.modes[mode.group(1)] = status.modes.get(mode.group(1), 0) + count


def parse_profiles(text: str) -> Status:
    """Counts from the kernel's profile list (``name (mode)`` per line); malformed lines are skipped."""
    status = Status(source=PROFILES)
    for line in text.splitlines():
        match = _PROFILE.match(line)
        if match:
            status.loaded += 1
            status.modes[match.group(2)] = status.modes.get(match.group(2), 0) + 1
    return status


def read_status(context: Context) -> Status | None:
    runtime = context.runtime
    output = runtime.command("apparmor_status") if runtime is not None else None
    if output:
        return parse_status(output)
    try:
        text = context.view.read_text(PROFILES)
    except ViewError:
        return None
    return parse_profiles(text) if text is not None else None


def evaluate(params: AppArmorParams, context: Context) -> Outcome:
    if not context.live:
        return Outcome.not_applicable("needs a running system; the target is offline")
    status = context.memo("apparmor", lambda: read_status(context))
    if status is None or status.loaded == 0:
        return Outcome.failed("AppArmor is not loaded (no profiles found)")
    allowed = {"enforce"} if params.assert_ == "profiles_enforce" else {"enforce", "complain"}
    summary = ", ".join(f"{count} {printable(mode)}" for mode, count in sorted(status.modes.items()) if count)
    shown = f"{status.loaded} profiles loaded ({summary}) per {status.source}"
    others = {mode: count for mode, count in status.modes.items() if count and mode not in allowed}
    problems = [f"{count} profiles in {printable(mode)} mode" for mode, count in sorted(others.items())]
    if status.unconfined_processes:
        problems.append(f"{status.unconfined_processes} processes unconfined although a profile exists")
    return Outcome.failed(shown, *problems) if problems else Outcome.passed(shown)


CHECK = CheckType("apparmor", AppArmorParams, evaluate, "AppArmor profiles in enforce (or complain) mode")
