"""Which frame the link writes next, and how much it wrote per class.

Link frames (PING, PONG, CREDIT, OPEN, link CLOSE) are tiny and go first; then channel frames by strict
priority — interactive, control, bulk — round-robin between the channels of one class, one frame per
turn. A channel's own frames (DATA, end of stream, CLOSE) stay in order on its :class:`Lane`.
"""

from __future__ import annotations

from collections import deque

from rampart.link.frames import HEADER_SIZE, PRIORITY_ORDER, Frame, Priority
from rampart.link.pulse import Pulse

LINK_CLASS = "link"


class Lane:
    """The ordered outbound frames of one channel; ``drained`` fires when its last frame is written."""

    __slots__ = ("drained", "frames", "priority", "scheduled", "unsent")

    def __init__(self, priority: Priority) -> None:
        self.priority = priority
        self.frames: deque[Frame] = deque()
        self.scheduled = False
        self.unsent = 0
        self.drained = Pulse()


class Scheduler:
    """Outbound queues of one link; ``work`` fires whenever a frame becomes ready."""

    def __init__(self) -> None:
        self.work = Pulse()
        self._link: deque[Frame] = deque()
        self._pong: Frame | None = None
        self._rings: dict[Priority, deque[Lane]] = {p: deque() for p in PRIORITY_ORDER}
        self._stats = {name: {"frames": 0, "bytes": 0} for name in (LINK_CLASS, *PRIORITY_ORDER)}
        self._closed = False

    def push_link(self, frame: Frame) -> None:
        if not self._closed:
            self._link.append(frame)
            self.work.fire()

    @property
    def link_queued(self) -> int:
        """Link frames waiting to be written (grows only when the peer stops reading)."""
        return len(self._link)

    def push_pong(self, frame: Frame) -> None:
        """Queue a PONG; a newer one replaces one still waiting, so a ping flood cannot grow the queue."""
        if not self._closed:
            self._pong = frame
            self.work.fire()

    def push(self, lane: Lane, frame: Frame) -> None:
        if self._closed:
            return
        lane.frames.append(frame)
        lane.unsent += 1
        if not lane.scheduled:
            lane.scheduled = True
            self._rings[lane.priority].append(lane)
        self.work.fire()

    def pop(self) -> tuple[Frame, Lane | None] | None:
        """The next frame to write and the lane it came from (None for link frames), or None if idle."""
        if self._link:
            return self._link.popleft(), None
        if self._pong is not None:
            frame, self._pong = self._pong, None
            return frame, None
        for priority in PRIORITY_ORDER:
            picked = self._pop_ring(self._rings[priority])
            if picked is not None:
                return picked
        return None

    @staticmethod
    def _pop_ring(ring: deque[Lane]) -> tuple[Frame, Lane] | None:
        while ring:
            lane = ring.popleft()
            if lane.frames:
                frame = lane.frames.popleft()
                if lane.frames:
                    ring.append(lane)
                else:
                    lane.scheduled = False
                return frame, lane
            lane.scheduled = False
        return None

    def sent(self, frame: Frame, lane: Lane | None) -> None:
        """Account for a frame the transport accepted."""
        stats = self._stats[LINK_CLASS if lane is None else lane.priority]
        stats["frames"] += 1
        stats["bytes"] += HEADER_SIZE + len(frame.payload)
        if lane is not None:
            lane.unsent -= 1
            if lane.unsent <= 0:
                lane.drained.fire()

    def close(self, final: Frame | None) -> None:
        """Drop everything queued; only ``final`` (the link CLOSE) is still written."""
        for ring in self._rings.values():
            for lane in ring:
                lane.frames.clear()
                lane.unsent = 0
                lane.drained.fire()
            ring.clear()
        self._link.clear()
        self._pong = None
        if final is not None:
            self._link.append(final)
        self._closed = True
        self.work.fire()

    def stats(self) -> dict[str, dict[str, int]]:
        return {name: dict(counts) for name, counts in self._stats.items()}
