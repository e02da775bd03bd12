"""`LiveSession`: one running session on the server: its legs, observers, recording and limits.

A watchdog ends the session on idle timeout (only the user's input counts), maximum duration, a
client away longer than the grace period, or when the user's access is gone (token expired or
revoked, account disabled, or the policies no longer allow it). Ending is done once, in its own task:
the process is stopped, the client gets the rest of the output and the reason, the recording is
closed with a signed end, and the end is stored and audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from rampart.errors import RampartError, RecordingStoreError
from rampart.link.transport import Transport
from rampart.server.sessions.access import access_problem
from rampart.server.sessions.leg import Leg
from rampart.server.sessions.recorder import SessionRecorder
from rampart.server.sessions.spec import SessionSpec
from rampart.session import records
from rampart.session.records import Stream
from rampart.store import sessions as session_store

if TYPE_CHECKING:
    from rampart.server.state import ServerState

log = logging.getLogger("rampart.server")
WATCH_INTERVAL = 1.0
ACCESS_CHECK_INTERVAL = 10.0
OBSERVER_QUEUE = 1024
OBSERVER_HISTORY = 64 * 1024  # recent terminal output a joining observer sees first


class Observer:
    """A read-only watcher of a shell: gets its output, never reaches its input."""

    def __init__(self, transport: Transport, name: str) -> None:
        self.transport, self.name = transport, name
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(OBSERVER_QUEUE)
        self._queue.put_nowait(records.hello({}))  # a plain stream: nothing to resume
        self.task = asyncio.create_task(self._pump())

    def offer(self, record: bytes) -> None:
        """Queue a record; an observer too slow to keep up is cut off rather than slowing the session."""
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.task.cancel()

    def finish(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def _pump(self) -> None:
        while (record := await self._queue.get()) is not None:
            await self.transport.send(record)


class LiveSession:
    """See the module docstring."""

    def __init__(self, state: ServerState, spec: SessionSpec, recorder: SessionRecorder) -> None:
        self.state, self.spec, self.recorder = state, spec, recorder
        config = state.config
        self.grace = config.session_grace
        self.legs: dict[int, Leg] = {}
        self.observers: set[Observer] = set()
        self._history: deque[bytes] = deque()
        self._history_bytes = 0
        self.echo = True
        self.started = self.last_input = time.monotonic()
        self.end_reason: str | None = None
        self.ended = asyncio.Event()
        self._ending: asyncio.Task[None] | None = None
        self._closed_legs: dict[str, dict[str, Any]] = {}
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._tasks = [
            asyncio.create_task(self._watch()),
            asyncio.create_task(recorder.run(self._recording_failed)),
        ]

    @property
    def active(self) -> bool:
        return self.end_reason is None

    # -- legs --------------------------------------------------------------------------------

    async def open_leg(self, number: int) -> Leg:
        """Start leg ``number`` on the host (0 for a shell, command or copy; 1.. for connections)."""
        leg = Leg(self, number)
        self.legs[number] = leg
        try:
            await leg.open()
        except RampartError:
            del self.legs[number]
            raise
        return leg

    def leg_done(self, leg: Leg) -> None:
        """The agent finished a leg: the whole session for a shell, command or copy."""
        if self.spec.kind != "forward":
            code = (leg.exit or {}).get("code")
            signal = (leg.exit or {}).get("signal")
            self.request_end(f"exited with code {code}" if signal is None else f"killed by signal {signal}")
        else:
            self._spawn(self._close_leg(leg, "connection closed"))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _close_leg(self, leg: Leg, reason: str) -> None:
        if leg.closing:
            return
        leg.closing = True
        await leg.finish(reason, self.grace)
        if self.legs.pop(leg.number, None) is leg:
            summary = leg.summary()
            self._closed_legs[str(leg.number)] = summary
            self.record_marker({"leg": leg.number, "closed": reason, **summary})

    # -- what the legs report ----------------------------------------------------------------

    def input_seen(self) -> None:
        self.last_input = time.monotonic()

    def record_output(self, code: str, data: bytes) -> None:
        if self.spec.kind in {"shell", "exec"}:
            self.recorder.output(code, data)

    def record_input(self, data: bytes) -> None:
        """Keyboard input of a shell only while its terminal echoes (never a typed password)."""
        if self.spec.kind == "exec" or (self.spec.kind == "shell" and self.echo):
            self.recorder.output("i", data)

    def record_resize(self, cols: int, rows: int) -> None:
        if self.spec.kind == "shell":
            self.recorder.resize(cols, rows)

    def record_marker(self, what: dict[str, Any]) -> None:
        self.recorder.marker(what)

    def observe(self, output: bytes) -> None:
        """Pass terminal output to the observers, and keep the most recent for those who join later."""
        record = records.data(Stream.STDOUT, output)
        for observer in list(self.observers):
            observer.offer(record)
        self._history.append(output)
        self._history_bytes += len(output)
        while self._history_bytes - len(self._history[0]) >= OBSERVER_HISTORY:
            self._history_bytes -= len(self._history.popleft())

    def add_observer(self, observer: Observer) -> None:
        """Start an observer with the recent output, then the live stream."""
        for output in self._history:
            observer.offer(records.data(Stream.STDOUT, output))
        self.observers.add(observer)

    # -- limits ------------------------------------------------------------------------------

    async def _watch(self) -> None:
        checked = time.monotonic()
        while self.active:
            await asyncio.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            reason = self._limit_reached(now)
            if reason is None and now - checked >= ACCESS_CHECK_INTERVAL:
                checked = now
                reason = await run_in_threadpool(access_problem, self.state, self.spec)
            if reason is not None:
                self.request_end(reason)
                return

    def _limit_reached(self, now: float) -> str | None:
        config = self.state.config
        if now - self.last_input > config.session_idle_timeout:
            return f"idle for more than {config.session_idle_timeout:g} s"
        if now - self.started > config.session_max_duration:
            return f"maximum session duration of {config.session_max_duration:g} s reached"
        for leg in list(self.legs.values()):
            away = leg.note_client_state(now)
            if away is not None and away > self.grace and self.spec.kind != "forward":
                return f"the client was away for more than {self.grace:g} s"
            if away is not None and away > self.grace:
                self._spawn(self._close_leg(leg, "the client went away"))
        return None

    async def _recording_failed(self, error: RecordingStoreError) -> None:
        if self.state.config.recording_fail_closed:
            self.request_end(f"recording failed: {error.message}")

    # -- ending ------------------------------------------------------------------------------

    def request_end(self, reason: str) -> None:
        """End the session (once) with ``reason``; returns at once, the work runs in its own task."""
        if self._ending is None:
            self.end_reason = reason
            self._ending = asyncio.create_task(self._end(reason))

    async def wait_ended(self) -> None:
        await self.ended.wait()

    async def _end(self, reason: str) -> None:
        try:
            await asyncio.gather(*(leg.finish(reason, self.grace) for leg in list(self.legs.values())))
            for observer in self.observers:
                observer.finish()
            for task in self._tasks:
                task.cancel()
            await self.recorder.close(self._summary(reason))
            await run_in_threadpool(self._store_end, reason)
        finally:
            self.state.broker.forget(self)
            self.ended.set()

    def _exit_code(self) -> int | None:
        leg = self.legs.get(0)
        code = ((leg.exit if leg else None) or {}).get("code")
        return code if isinstance(code, int) else None

    def _summary(self, reason: str) -> dict[str, Any]:
        legs = self._closed_legs | {str(number): leg.summary() for number, leg in self.legs.items()}
        return {
            "reason": reason,
            "exit_code": self._exit_code(),
            "bytes_in": sum(leg["bytes_to_host"] for leg in legs.values()),
            "bytes_out": sum(leg["bytes_from_host"] for leg in legs.values()),
            "legs": legs,
        }

    def _store_end(self, reason: str) -> None:
        summary = self._summary(reason)
        with self.state.session() as session:
            session_store.end_session(
                session,
                self.spec.id,
                ended_at=self.state.clock(),
                reason=reason,
                exit_code=summary["exit_code"],
                bytes_in=summary["bytes_in"],
                bytes_out=summary["bytes_out"],
            )
        details = {"host": self.spec.host_id, "login": self.spec.login, "address": self.spec.client_address}
        details |= {"reason": reason[:300], "exit_code": summary["exit_code"]}
        details |= {"bytes_in": summary["bytes_in"], "bytes_out": summary["bytes_out"]}
        self.state.audit.append(self.spec.user, "session.end", f"session:{self.spec.id}", "success", details)
