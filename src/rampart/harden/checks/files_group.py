"""The files check types, listed explicitly (see rampart.harden.checks)."""

from __future__ import annotations

from typing import Any

from rampart.harden.checks import apparmor, config_value, file_content, file_exists, file_mode, grub, sudoers
from rampart.harden.checks.base import CheckType

CHECKS: tuple[CheckType[Any], ...] = (
    file_mode.CHECK,
    file_exists.CHECK,
    file_content.CHECK,
    config_value.CHECK,
    sudoers.CHECK,
    grub.CHECK,
    apparmor.CHECK,
)
