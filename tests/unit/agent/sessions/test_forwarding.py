"""Forward targets: validation, a real connection to a local echo server, and one-line failures."""

from __future__ import annotations

import asyncio
import socket

import pytest

from rampart.agent.sessions.forwarding import open_target, target_label, validate_target
from rampart.errors import SessionRefused
from unit.agent.sessions.session_helpers import async_test


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


def _free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@async_test
async def test_connects_to_a_local_echo_server() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await open_target("127.0.0.1", port)
        payload = bytes(range(256)) * 100
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        assert await reader.read() == payload
        writer.close()
        await writer.wait_closed()


@async_test
async def test_refused_port_is_one_clear_line() -> None:
    port = _free_port()
    with pytest.raises(SessionRefused, match=rf"^cannot reach 127\.0\.0\.1:{port}: connection refused$"):
        await open_target("127.0.0.1", port)


@async_test
async def test_unresolvable_name_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unresolvable(*_: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio, "open_connection", unresolvable)
    with pytest.raises(
        SessionRefused, match=r"^cannot reach no-such-host\.invalid:80: name does not resolve$"
    ):
        await open_target("no-such-host.invalid", 80)


@async_test
async def test_other_errors_name_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unreachable(*_: object) -> None:
        raise OSError(113, "Connect call failed ('10.0.0.5', 5432)")

    monkeypatch.setattr(asyncio, "open_connection", unreachable)
    with pytest.raises(SessionRefused, match=r"^cannot reach 10\.0\.0\.5:5432: no route to host$"):
        await open_target("10.0.0.5", 5432)


@async_test
async def test_timeout_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(*_: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio, "open_connection", never)
    with pytest.raises(SessionRefused, match=r"^cannot reach 10\.0\.0\.5:5432: timed out after 0\.01s$"):
        await open_target("10.0.0.5", 5432, timeout=0.01)


@pytest.mark.parametrize(
    "host",
    ["localhost", "db.internal", "db-1.example.com.", "10.0.0.5", "::1", "[fe80::1]", "_svc.local", "a" * 63],
)
def test_good_hosts(host: str) -> None:
    assert validate_target(host, 5432)[1] == 5432


@pytest.mark.parametrize(
    "host",
    [
        "",
        "a b",
        "a\nb",
        "a\x00",
        "\x1b[2J",
        "a" * 64,
        ("a" * 60 + ".") * 5,
        "-leading",
        "trailing-",
        "a..b",
        ".",
        "host:80",
        "[::1",
        "http://x",
        "x/y",
        "ho$t",
        "é.com",
        None,
        7,
    ],
)
def test_bad_hosts_are_refused(host: str) -> None:
    with pytest.raises(SessionRefused, match=r"^invalid target host$"):
        validate_target(host, 80)


@pytest.mark.parametrize("port", [0, -1, 65536, True, "80", 80.0, None])
def test_bad_ports_are_refused(port: int) -> None:
    with pytest.raises(SessionRefused, match=r"^invalid target port$"):
        validate_target("localhost", port)


def test_ipv6_label_has_brackets() -> None:
    assert target_label("::1", 22) == "[::1]:22"
    assert target_label("db", 22) == "db:22"
