"""``image_healthcheck``: the image declares a health check (``config.Healthcheck``) that is not disabled.

``config.Healthcheck.Test`` is ``["CMD", ...]``, ``["CMD-SHELL", "..."]``, ``["NONE"]`` (disabled) or empty
(inherit the base image's, which the config would then already hold). It passes for a CMD or CMD-SHELL test,
fails when there is none or it is NONE. Evidence names the test's program only (its arguments may hold
credentials). No parameters. Targets that are not images are ``na``.
"""

from __future__ import annotations

from collections.abc import Mapping

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE, container_config, shown
from rampart.harden.model import Outcome

RUNNABLE = frozenset({"CMD", "CMD-SHELL"})


class ImageHealthcheckParams(Params):
    pass


def evaluate(params: ImageHealthcheckParams, context: Context) -> Outcome:
    config = container_config(context)
    if config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    health = config.get("Healthcheck")
    test = health.get("Test") if isinstance(health, Mapping) else None
    if not isinstance(test, list) or not test or not all(isinstance(part, str) for part in test):
        return Outcome.failed("config.Healthcheck is not set: no health check is declared")
    if test[0] == "NONE":
        return Outcome.failed("config.Healthcheck disables the health check (NONE)")
    if test[0] not in RUNNABLE or len(test) < 2:
        return Outcome.failed(f"config.Healthcheck.Test starts {shown(test[0], 40)!r}: not a runnable test")
    program = " ".join(test[1:]).split(maxsplit=1)[:1] or ["?"]
    return Outcome.passed(
        f"config.Healthcheck: {test[0]} running {shown(program[0], 60)!r} (arguments not shown)"
    )


CHECK = CheckType("image_healthcheck", ImageHealthcheckParams, evaluate, "the image declares a health check")
