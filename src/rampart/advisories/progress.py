"""How long-running database work reports progress, without knowing who is watching.

The CLI passes a rich progress bar on a terminal; everything else gets `NO_PROGRESS`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Named tasks that start (with a total when known), advance and finish."""

    def start(self, task: str, description: str, total: int | None) -> None: ...

    def advance(self, task: str, amount: int) -> None: ...

    def finish(self, task: str) -> None: ...


class _NoProgress:
    def start(self, task: str, description: str, total: int | None) -> None:
        return None

    def advance(self, task: str, amount: int) -> None:
        return None

    def finish(self, task: str) -> None:
        return None


NO_PROGRESS: Progress = _NoProgress()
