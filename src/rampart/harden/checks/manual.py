"""``manual``: an item a person must judge; the result is always ``manual`` with what to look at."""

from __future__ import annotations

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.model import Outcome


class ManualParams(Params):
    instructions: str


def evaluate(params: ManualParams, context: Context) -> Outcome:
    return Outcome.manual(params.instructions)


CHECK = CheckType(
    "manual", ManualParams, evaluate, "always manual: a person reviews what the instructions say"
)
