"""The image check types, listed explicitly (see rampart.harden.checks)."""

from __future__ import annotations

from typing import Any

from rampart.harden.checks import (
    image_base,
    image_healthcheck,
    image_pkg_cache,
    image_secrets,
    image_setuid,
    image_user,
)
from rampart.harden.checks.base import CheckType

CHECKS: tuple[CheckType[Any], ...] = (
    image_user.CHECK,
    image_healthcheck.CHECK,
    image_secrets.CHECK,
    image_pkg_cache.CHECK,
    image_setuid.CHECK,
    image_base.CHECK,
)
