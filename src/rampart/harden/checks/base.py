"""What every check type is: a name, a strict parameter model, and an evaluate function; `Params` base."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from rampart.harden.context import Context
from rampart.harden.model import Outcome


class Params(BaseModel):
    """Base of every check's parameters: unknown keys are an error, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class CheckType(Generic[P]):
    """One typed check: ``evaluate(params, context)`` answers with an `Outcome`."""

    name: str
    params: type[P]
    evaluate: Callable[[P, Context], Outcome]
    summary: str = ""

    def run(self, raw: dict[str, Any], context: Context) -> Outcome:
        return self.evaluate(self.params.model_validate(raw), context)
