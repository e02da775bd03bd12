"""Throw-away network namespaces for fleet tests: a server, an agent and a client namespace.

The server namespace has one veth link to the agent namespace and one to the client namespace;
nothing is routed anywhere else, so no traffic can leave the machine. Names carry a random
suffix and everything is deleted afterwards.
"""

from __future__ import annotations

import random
import secrets
import subprocess
from dataclasses import dataclass


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass(frozen=True)
class Topology:
    """Namespace names and the server's address as seen from the agent and from the client."""

    server: str
    agent: str
    client: str
    server_for_agent: str
    server_for_client: str

    def delete(self) -> None:
        for name in (self.server, self.agent, self.client):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30, check=False)


def _link(server_ns: str, peer_ns: str, tag: str, network: str, first: int) -> None:
    near, far = f"v{tag}s", f"v{tag}p"
    _ip("link", "add", near, "type", "veth", "peer", "name", far)
    _ip("link", "set", near, "netns", server_ns)
    _ip("link", "set", far, "netns", peer_ns)
    _ip("-n", server_ns, "addr", "add", f"{network}.{first}/30", "dev", near)
    _ip("-n", peer_ns, "addr", "add", f"{network}.{first + 1}/30", "dev", far)
    _ip("-n", server_ns, "link", "set", near, "up")
    _ip("-n", peer_ns, "link", "set", far, "up")


def create() -> Topology:
    """Three fresh namespaces wired server<->agent and server<->client."""
    suffix = secrets.token_hex(3)
    octets = f"10.{random.randint(64, 250)}.{random.randint(0, 250)}"
    topology = Topology(f"rps{suffix}", f"rpa{suffix}", f"rpc{suffix}", f"{octets}.1", f"{octets}.5")
    try:
        for name in (topology.server, topology.agent, topology.client):
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        _link(topology.server, topology.agent, f"{suffix}a", octets, 1)
        _link(topology.server, topology.client, f"{suffix}c", octets, 5)
    except BaseException:
        topology.delete()
        raise
    return topology


def listening_tcp(netns: str) -> list[str]:
    """The listening TCP sockets inside a namespace, as `ss -ltnH` prints them."""
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "ss", "-ltnH"], capture_output=True, text=True, timeout=30, check=True
    )
    return [line for line in done.stdout.splitlines() if line.strip()]
