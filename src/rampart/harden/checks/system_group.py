"""The system check types, listed explicitly (see rampart.harden.checks)."""

from __future__ import annotations

from typing import Any

from rampart.harden.checks import (
    firewall,
    kernel_module,
    listening,
    mount_option,
    package,
    sysctl,
    systemd_unit,
)
from rampart.harden.checks.base import CheckType

CHECKS: tuple[CheckType[Any], ...] = (
    sysctl.CHECK,
    kernel_module.CHECK,
    mount_option.CHECK,
    package.CHECK,
    systemd_unit.CHECK,
    listening.CHECK,
    firewall.CHECK,
)
