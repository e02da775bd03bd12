"""`Context`: what a check is handed besides its parameters: the view, the variables, and the run's shared facts.

Facts (a parsed passwd file, the effective sshd configuration, the one filesystem walk) are computed the first
time a check asks for them through `Context.memo` and shared by every later check of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rampart.harden.runtime import Runtime
from rampart.harden.view import SystemView

T = TypeVar("T")


class Context:
    def __init__(self, view: SystemView, variables: Mapping[str, Any] | None = None) -> None:
        self.view = view
        self.variables: Mapping[str, Any] = dict(variables or {})
        self._facts: dict[str, Any] = {}

    @property
    def runtime(self) -> Runtime | None:
        return self.view.runtime

    @property
    def live(self) -> bool:
        return self.view.runtime is not None

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """The fact named ``key``: computed once per run by ``compute``, then shared."""
        if key not in self._facts:
            self._facts[key] = compute()
        value: T = self._facts[key]
        return value

    def with_variables(self, variables: Mapping[str, Any]) -> Context:
        """The same run (same facts) seen with a rule's own variables."""
        other = Context.__new__(Context)
        other.view, other.variables, other._facts = self.view, variables, self._facts
        return other
