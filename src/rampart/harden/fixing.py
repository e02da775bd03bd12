"""Remediation: the fix plan for a report's failing rules, applying it, and the record of what was done.

Only rules whose check failed and that carry a ``fix`` action are planned. Applying writes inside the target's
root directory only (never into an image), then appends one JSON line per action to the record file: when,
who, which rule, the action and its parameters, and what it changed.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rampart.errors import RampartError
from rampart.harden.engine import substitute
from rampart.harden.fixes import FIXES
from rampart.harden.model import HardenReport, Rule, Status
from rampart.harden.profiles import Profile
from rampart.harden.view import IMAGE, SystemView

DEFAULT_RECORD = Path("/var/lib/rampart/harden/fixes.jsonl")


class FixError(RampartError):
    """A fix cannot be applied as asked (an image target, an unwritable record, a failing action)."""


@dataclass(frozen=True)
class PlannedFix:
    rule: str
    title: str
    action: str
    params: Mapping[str, Any]
    changes: tuple[str, ...]


def plan_fixes(report: HardenReport, profile: Profile, view: SystemView) -> list[PlannedFix]:
    """What applying would change, for each failing rule that has a fix action."""
    failing = {result.rule for result in report.results if result.status is Status.FAIL}
    return [
        _plan(rule, profile, view) for rule in profile.rules if rule.id in failing and rule.fix is not None
    ]


def _plan(rule: Rule, profile: Profile, view: SystemView) -> PlannedFix:
    assert rule.fix is not None
    fix = FIXES[rule.fix.type]
    params = substitute(dict(rule.fix.params), {**rule.variables, **profile.variables})
    changes = fix.plan(fix.params.model_validate(params), view)
    return PlannedFix(rule.id, rule.title, rule.fix.type, params, tuple(changes))


def apply_fixes(
    planned: Sequence[PlannedFix],
    view: SystemView,
    root: str,
    record: Path = DEFAULT_RECORD,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[tuple[PlannedFix, list[str]]]:
    """Each planned action applied under ``root``, recorded as it is done; the first failure stops the run."""
    if view.kind == IMAGE:
        raise FixError(
            "fixes apply to a host or a root filesystem directory, not to an image: rebuild the image"
        )
    done: list[tuple[PlannedFix, list[str]]] = []
    for item in planned:
        fix = FIXES[item.action]
        try:
            lines = fix.apply(fix.params.model_validate(dict(item.params)), root)
        except (OSError, RampartError) as exc:
            raise FixError(
                f"{item.rule}: {item.action} failed: {getattr(exc, 'message', None) or exc}"
            ) from None
        _record(record, view, item, lines, clock())
        done.append((item, lines))
    return done


def _record(record: Path, view: SystemView, item: PlannedFix, lines: list[str], when: datetime) -> None:
    entry = {
        "time": when.isoformat(timespec="seconds"),
        "user": _user(),
        "target": view.name,
        "rule": item.rule,
        "action": item.action,
        "params": item.params,
        "changed": lines,
    }
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        with record.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
    except OSError as exc:
        raise FixError(f"cannot record the fix in {record}: {exc.strerror}") from None


def _user() -> str:
    try:
        return f"{getpass.getuser()} (uid {os.getuid()})"
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
