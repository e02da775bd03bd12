"""``listening``: sockets of the running system (runtime.listening). ``local_only``: every socket on one of
``ports`` is bound to a loopback address (an MTA only for local mail); ``no_listener``: nothing listens on them.
Needs a running system (rules say ``requires: [runtime]``)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.model import Outcome
from rampart.harden.runtime import Socket


class ListeningParams(Params):
    assert_: Literal["local_only", "no_listener"] = Field(alias="assert")
    ports: list[int]


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address == "localhost"


def _shown(socket: Socket) -> str:
    owner = f" ({socket.process})" if socket.process else ""
    return f"{socket.protocol} {socket.address}:{socket.port}{owner}"


def evaluate(params: ListeningParams, context: Context) -> Outcome:
    if context.runtime is None:
        return Outcome.not_applicable("needs a running system; the target is offline")
    sockets = [socket for socket in context.runtime.listening() if socket.port in params.ports]
    ports = ", ".join(str(port) for port in params.ports)
    if params.assert_ == "no_listener":
        bad = sockets
    else:
        bad = [socket for socket in sockets if not is_loopback(socket.address)]
    if bad:
        return Outcome.failed(*(f"listening: {_shown(socket)}" for socket in bad))
    shown = [f"listening (loopback): {_shown(socket)}" for socket in sockets]
    return Outcome.passed(*(shown or [f"nothing listens on port(s) {ports}"]))


CHECK = CheckType(
    "listening", ListeningParams, evaluate, "listening sockets: loopback only, or none, on given ports"
)
