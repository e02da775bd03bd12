"""The processes that hash a walk's files: batches go out through one pipe per worker, digests come back in order.

Plain pipes rather than `concurrent.futures.ProcessPoolExecutor`: the executor's two helper threads fight the
walking thread for the GIL (measured: a third of the walk's time on a copy of /usr), while a pipe needs none.
Each worker hashes its batches in the order it got them, so results are matched to batches per worker. At most
a few batches wait per worker (the walk bounds them), so neither side's pipe buffer ever fills and nothing can
deadlock. A worker that dies has its batches hashed in this process; no batch is ever lost. Workers come from
the ``forkserver`` start method (never ``fork``: the caller may have threads), so a script that walks must
guard its entry point with ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import contextlib
import signal
from collections import deque
from typing import TYPE_CHECKING

from rampart.fim.collect import Expect, hash_batch
from rampart.fim.model import HashName

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Result = tuple[bytes | None, str | None]


class Batch:
    """Files for one worker task: their paths and what their lstat said; then their digests or errors."""

    __slots__ = ("items", "results", "size", "worker")

    def __init__(self) -> None:
        self.items: list[tuple[bytes, Expect]] = []
        self.size = 0
        self.results: list[Result] | None = None
        self.worker: _Worker | None = None


class _Worker:
    __slots__ = ("conn", "process", "sent")

    def __init__(self, conn: Connection, process: BaseProcess) -> None:
        self.conn, self.process = conn, process
        self.sent: deque[Batch] = deque()


class HashPool:
    """``workers`` hashing processes, started on the first batch; 0 workers hash in this process."""

    def __init__(self, name: HashName, workers: int) -> None:
        self.name = name
        self.size = workers
        self.workers: list[_Worker] = []  # the live ones
        self.started = False

    def submit(self, batch: Batch) -> None:
        if not self.started:
            self.workers = [_start(self.name) for _ in range(self.size)]
            self.started = True
        if not self.workers:
            batch.results = hash_batch(batch.items, self.name.value)
            return
        worker = min(self.workers, key=lambda w: len(w.sent))
        try:
            worker.conn.send(batch.items)
        except OSError:
            self._lost(worker)
            self.submit(batch)
            return
        batch.worker = worker
        worker.sent.append(batch)

    def ready(self, batch: Batch, wait: bool) -> bool:
        """Whether ``batch`` has its results (with ``wait``, it does once this returns)."""
        worker = batch.worker
        while batch.results is None:
            assert worker is not None
            if not wait and not worker.conn.poll():
                return False
            self._receive(worker)
        return True

    def _receive(self, worker: _Worker) -> None:
        try:
            results: list[Result] = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        worker.sent.popleft().results = results

    def _lost(self, worker: _Worker) -> None:
        """A worker died: what it had is hashed here, and it gets no more."""
        worker.conn.close()
        while worker.sent:
            batch = worker.sent.popleft()
            batch.results = hash_batch(batch.items, self.name.value)
        self.workers.remove(worker)
        worker.process.join(timeout=5)

    def close(self) -> None:
        """Stop every worker (each finishes the batch it is on first)."""
        for worker in self.workers:
            _stop(worker)
        self.workers = []


def _start(name: HashName) -> _Worker:
    import multiprocessing  # only when files are hashed: a quick check of an unchanged tree never is

    context = multiprocessing.get_context("forkserver")
    ours, theirs = context.Pipe(duplex=True)
    process = context.Process(target=serve, args=(theirs, name.value), name="rampart-fim-hash", daemon=True)
    process.start()
    theirs.close()
    return _Worker(ours, process)


def _stop(worker: _Worker) -> None:
    with contextlib.suppress(OSError):
        worker.conn.send(None)
    worker.process.join(timeout=5)
    if worker.process.is_alive():
        worker.process.terminate()
        worker.process.join()
    worker.conn.close()


def serve(conn: Connection, name: str) -> None:
    """A worker: hash each batch received, send its results back, until told to stop (None) or cut off."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the walking process decides what an interrupt means
    while True:
        try:
            items = conn.recv()
        except (EOFError, OSError):
            return
        if items is None:
            return
        conn.send(hash_batch(items, name))
