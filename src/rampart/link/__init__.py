"""Multiplexed, flow-controlled channels over one message transport (the agent link).

Frames and their strict codec live in :mod:`~rampart.link.frames`, transports and adapters in
:mod:`~rampart.link.transport`, the multiplexer in :mod:`~rampart.link.mux`, channels in
:mod:`~rampart.link.channel`.
"""

from __future__ import annotations

from rampart.link.channel import Channel
from rampart.link.frames import MAX_FRAME, Priority
from rampart.link.mux import Mux
from rampart.link.transport import (
    MemoryTransport,
    StarletteTransport,
    Transport,
    WebSocketsTransport,
    memory_pair,
)

__all__ = [
    "MAX_FRAME",
    "Channel",
    "MemoryTransport",
    "Mux",
    "Priority",
    "StarletteTransport",
    "Transport",
    "WebSocketsTransport",
    "memory_pair",
]
