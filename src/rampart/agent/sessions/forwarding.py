"""The agent's end of a port forward: one TCP connection from this host to the asked target.

Which targets a user may reach is decided by the server's policy; here the target is only checked to be
a well-formed host name or address and port, and a failure becomes one clear line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket

from rampart.errors import SessionRefused

MAX_HOST_CHARS = 253
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_hostname(host: str) -> bool:
    labels = host.removesuffix(".").split(".")
    return all(_LABEL.fullmatch(label) for label in labels)


def validate_target(host: str, port: int) -> tuple[str, int]:
    """A host name or IP address (brackets around IPv6 allowed) and a port 1..65535; else SessionRefused."""
    if not isinstance(host, str) or not 0 < len(host) <= MAX_HOST_CHARS:
        raise SessionRefused("invalid target host")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not (_is_address(host) or _is_hostname(host)):
        raise SessionRefused("invalid target host")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SessionRefused("invalid target port")
    return host, port


def target_label(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return "connection failed"


async def open_target(
    host: str, port: int, timeout: float = 10.0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to ``host:port`` within ``timeout`` seconds; SessionRefused with the reason otherwise."""
    host, port = validate_target(host, port)
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.open_connection(host, port)
    except TimeoutError:
        raise SessionRefused(
            f"cannot reach {target_label(host, port)}: timed out after {timeout:g}s"
        ) from None
    except OSError as exc:
        raise SessionRefused(f"cannot reach {target_label(host, port)}: {_reason(exc)}") from None
