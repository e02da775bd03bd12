"""The live agent links held by this server process: who is connected, sending jobs, cutting links."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rampart.link.channel import Channel

JobSender = Callable[[dict[str, Any]], Awaitable[None]]
Closer = Callable[[str], Awaitable[None]]
ChannelOpener = Callable[[str, str, Mapping[str, Any]], Awaitable[Channel]]


@dataclass
class AgentConnection:
    """One accepted agent link: how to send it a control message and how to cut it."""

    host_id: str
    send: JobSender
    close: Closer
    open_channel: ChannelOpener


class AgentRegistry:
    """Host id -> live link. Only the event loop thread touches it."""

    def __init__(self) -> None:
        self._links: dict[str, AgentConnection] = {}
        self._arrived: dict[str, asyncio.Event] = {}

    def __len__(self) -> int:
        return len(self._links)

    def is_connected(self, host_id: str) -> bool:
        """True while the host holds a link to this process."""
        return host_id in self._links

    def connected(self) -> frozenset[str]:
        """Every host id with a live link."""
        return frozenset(self._links)

    async def register(self, connection: AgentConnection) -> None:
        """Hold a new link; an older link of the same host is cut (the host reconnected)."""
        previous = self._links.get(connection.host_id)
        self._links[connection.host_id] = connection
        self._arrived.pop(connection.host_id, asyncio.Event()).set()
        if previous is not None:
            await previous.close("replaced by a newer link")

    def unregister(self, connection: AgentConnection) -> None:
        """Forget a link that ended (unless a newer one already replaced it)."""
        if self._links.get(connection.host_id) is connection:
            del self._links[connection.host_id]

    def get(self, host_id: str) -> AgentConnection | None:
        """The host's live link, if it has one."""
        return self._links.get(host_id)

    async def wait_for(self, host_id: str, timeout: float) -> AgentConnection | None:
        """The host's link, waiting up to ``timeout`` seconds for it to (re)connect."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (connection := self._links.get(host_id)) is None:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            arrived = self._arrived.setdefault(host_id, asyncio.Event())
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                return None
        return connection

    async def disconnect(self, host_id: str, reason: str) -> bool:
        """Cut the host's link at once; False when it had none."""
        connection = self._links.pop(host_id, None)
        if connection is None:
            return False
        await connection.close(reason)
        return True

    async def request_job(self, host_id: str, kind: str, params: dict[str, Any] | None = None) -> str | None:
        """Send a job to a connected host; its id, or None when the host is not connected here."""
        connection = self._links.get(host_id)
        if connection is None:
            return None
        job_id = uuid.uuid4().hex
        await connection.send({"type": "job", "job_id": job_id, "kind": kind, "params": params or {}})
        return job_id

    async def close_all(self, reason: str) -> None:
        """Cut every link (server shutdown)."""
        links = list(self._links.values())
        self._links.clear()
        await asyncio.gather(*(link.close(reason) for link in links), return_exceptions=True)
