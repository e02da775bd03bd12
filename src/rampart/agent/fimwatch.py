"""The agent's real-time file integrity watch: `rampart.fim.watch.Watcher` as a trigger for the fim job.

The watcher runs inside the agent on the baseline its fim job checks. It tells nothing to the server
itself: each change it notices (a path changed or back to its baseline state, events lost, a path
unreadable) only asks for the fim job, which runs soon after, debounced (`Debounced`), one job at a time
with every other job, and sends the check's result through the spool as a scheduled or requested check
does. So the server hears of a change within seconds, in the same form as always, and the job stays the
one source of what the server is told.

A watcher that cannot start (no baseline to trust, no inotify) is logged once; the scheduled checks go on.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rampart.agent.jobs import open_fim_baseline

if TYPE_CHECKING:
    from rampart.fim.watch import Notice, Watcher

log = logging.getLogger("rampart.agent")


class Debounced:
    """Runs ``action`` soon after a `poke`: at most once every ``interval`` seconds (from the start of the
    previous run), never two at once (the action takes the agent's job lock). A run that starts covers
    every poke before it, wherever it was started from (`started`)."""

    def __init__(self, action: Callable[[], Awaitable[None]], interval: float) -> None:
        self.action, self.interval = action, interval
        self._dirty = asyncio.Event()
        self._last = -math.inf
        self.runs = 0

    def poke(self) -> None:
        """Something changed: run the action soon."""
        self._dirty.set()

    def started(self) -> None:
        """A run began (this one or another caller's): what was poked so far is covered by it."""
        self._dirty.clear()
        self._last = asyncio.get_running_loop().time()

    async def run(self) -> None:
        """Run the action whenever poked, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            wait = self._last + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # a run started meanwhile may have covered the poke
            self.started()
            self.runs += 1
            try:
                await self.action()
            except Exception as error:  # the watch outlives one failed check
                log.error("fim check after a change failed: %s", error)


class FimWatch:
    """A watcher of the baseline at ``baseline`` (verified with ``verify_key``) that pokes ``trigger``."""

    def __init__(
        self, baseline: Path, verify_key: Path, trigger: Debounced, workers: int | None = None
    ) -> None:
        self.baseline, self.verify_key, self.trigger, self.workers = baseline, verify_key, trigger, workers
        self.ready = asyncio.Event()  # the first reconcile is done: events are watched
        self.notices = 0  # notices that asked for a check

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set; returns early (one line logged) when the watcher cannot run."""
        try:
            watcher = await asyncio.to_thread(self._open)
        except Exception as error:  # refused baseline, bad policy, no asyncinotify: logged
            log.warning("fim watch not started (%s); the scheduled fim checks go on", _reason(error))
            return
        runner = asyncio.create_task(self.trigger.run())
        try:
            await watcher.run(stop)
        except Exception as error:  # no inotify, or the watcher broke: logged, the agent goes on
            log.warning("fim watch stopped (%s); the scheduled fim checks go on", _reason(error))
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await asyncio.to_thread(watcher.close)

    def _open(self) -> Watcher:
        from rampart.fim.watch import Options, Watcher

        opened = open_fim_baseline(self.baseline, self.verify_key)
        options = Options(packages=False, workers=self.workers)  # causes are the job's to explain
        return Watcher(opened, options, self.sink)

    def sink(self, notice: Notice) -> None:
        """A notice of the watcher: a change, a path restored or a warning asks for a check."""
        if notice.info is not None:
            log.info("fim watch: %s", notice.info)
            self.ready.set()
            return
        if notice.warning is not None:
            log.warning("fim watch: %s", notice.warning)
        self.notices += 1
        self.trigger.poke()


def _reason(error: BaseException) -> str:
    return str(getattr(error, "message", None) or error or type(error).__name__)
