"""Every check type, in one table built from the explicit per-group tables; rules name checks by ``type``."""

from __future__ import annotations

from typing import Any

from rampart.harden.checks import accounts_group, files_group, image_group, manual, system_group
from rampart.harden.checks.base import CheckType

_ALL: tuple[CheckType[Any], ...] = (
    manual.CHECK,
    *files_group.CHECKS,
    *system_group.CHECKS,
    *accounts_group.CHECKS,
    *image_group.CHECKS,
)
CHECKS: dict[str, CheckType[Any]] = {check.name: check for check in _ALL}
