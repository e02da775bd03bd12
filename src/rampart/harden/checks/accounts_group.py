"""The accounts check types, listed explicitly (see rampart.harden.checks)."""

from __future__ import annotations

from typing import Any

from rampart.harden.checks import accounts, audit_rules, fs_walk, pam, sshd_setting
from rampart.harden.checks.base import CheckType

CHECKS: tuple[CheckType[Any], ...] = (
    accounts.CHECK,
    pam.CHECK,
    audit_rules.CHECK,
    sshd_setting.CHECK,
    fs_walk.CHECK,
)
