"""Adaptive TLS read buffers for the server's asyncio connections: small while idle, large while busy.

asyncio gives every TLS connection a read buffer for encrypted bytes (256 KiB by default), resident
from the first byte. With a fleet of idle agent links that was most of the server's memory
(benchmarks/fleet_scale.py), yet a small buffer makes bulk transfers (port forwards, copies) pay for
many tiny reads. So each connection starts with a small buffer, grows it when a read fills it (more
is waiting), and shrinks it again after a long run of small reads.
"""

from __future__ import annotations

from typing import Any

SMALL = 4 * 1024
LARGE = 256 * 1024
SHRINK_AFTER = 256  # consecutive small reads before a grown buffer is given back


def install() -> None:
    """Make every new asyncio TLS connection in this process use adaptive read buffers."""
    import asyncio.sslproto

    protocol: Any = asyncio.sslproto.SSLProtocol
    if getattr(protocol, "_rampart_adaptive", False):
        return
    original = protocol.buffer_updated

    def buffer_updated(self: Any, nbytes: int) -> None:
        original(self, nbytes)
        _adapt(self, nbytes)

    protocol.max_size = SMALL
    protocol.buffer_updated = buffer_updated
    protocol._rampart_adaptive = True


def _adapt(connection: Any, nbytes: int) -> None:
    size = len(connection._ssl_buffer)
    if nbytes >= size and size < LARGE:
        connection.max_size = LARGE  # the next get_buffer() allocates the large buffer
        connection._rampart_small_reads = 0
    elif size > SMALL and nbytes < SMALL:
        connection._rampart_small_reads = getattr(connection, "_rampart_small_reads", 0) + 1
        if connection._rampart_small_reads >= SHRINK_AFTER:
            connection.max_size = SMALL
            connection._ssl_buffer = bytearray(SMALL)
            connection._ssl_buffer_view = memoryview(connection._ssl_buffer)
    elif size > SMALL:
        connection._rampart_small_reads = 0
