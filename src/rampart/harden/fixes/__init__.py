"""Every fix action, in one explicit table; rules name fixes by ``type`` (see fixes/base.py for `FixType`)."""

from __future__ import annotations

from typing import Any

from rampart.harden.fixes import chmod, modprobe_disable, set_config, sshd_dropin, sysctl_dropin, write_file
from rampart.harden.fixes.base import FixType

_ALL: tuple[FixType[Any], ...] = (
    chmod.FIX,
    set_config.FIX,
    sshd_dropin.FIX,
    sysctl_dropin.FIX,
    modprobe_disable.FIX,
    write_file.FIX,
)
FIXES: dict[str, FixType[Any]] = {fix.name: fix for fix in _ALL}
