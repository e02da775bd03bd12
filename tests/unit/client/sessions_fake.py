"""A stand-in for the server and agent of a session: a real wss server on 127.0.0.1 in its own thread.

Each (session, connection) gets an agent-side Conversation that outlives WebSockets, like the real
broker's; a behaviour coroutine plays the agent. ``drop`` aborts the TCP connection under the current
WebSocket of a session so the client must re-attach. The REST calls go through httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.server import ServerConnection, serve

from rampart.cli.remote import use_client_factory
from rampart.client.api import ApiClient
from rampart.client.config import ClientConfig, Connection, save_config
from rampart.link.transport import WebSocketsTransport
from rampart.session.records import FROM_AGENT, TOWARD_AGENT, Stream, parse_event
from rampart.session.streams import Conversation, TransportPipe
from unit.client.fake import SECRET
from unit.client.pki import make_pki

PKI = make_pki()
Key = tuple[str, int | None]
Behaviour = Callable[["FakeSessionServer", Key, Conversation], Awaitable[None]]


class FakeSessionServer:
    """Serves ``/api/v1/sessions/{id}/attach``; see the module docstring."""

    def __init__(self, folder: Path, behaviour: Behaviour, *, close_code: int | None = None) -> None:
        self.behaviour, self.close_code = behaviour, close_code
        self.hellos: list[dict[str, Any]] = []
        self.attaches = 0
        self.agents: dict[Key, Conversation] = {}
        self.sockets: dict[Key, ServerConnection] = {}
        self.results: dict[Key, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (folder / "cert.pem").write_text(PKI.cert_pem)
        (folder / "key.pem").write_text(PKI.key_pem)
        self._context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        self.url = ""

    # -- the thread --------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[FakeSessionServer]:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        thread = threading.Thread(target=self._main, args=(loop, ready, stop), daemon=True)
        thread.start()
        assert ready.wait(30)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)

    def _main(self, loop: asyncio.AbstractEventLoop, ready: threading.Event, stop: asyncio.Event) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(ready, stop))
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event, stop: asyncio.Event) -> None:
        async with serve(self._handler, "127.0.0.1", 0, ssl=self._context, compression=None) as server:
            self.url = f"https://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"
            ready.set()
            await stop.wait()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for conversation in self.agents.values():
                await conversation.close()

    # -- one WebSocket -----------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        hello = json.loads(await ws.recv())
        self.hellos.append(hello)
        if hello.get("token") != SECRET:
            await ws.close(4401, "bad token")
            return
        if self.close_code is not None:
            await ws.close(self.close_code, "refused")
            return
        assert ws.request is not None
        key = (ws.request.path.split("/")[4], hello.get("connection"))
        await ws.send(json.dumps({"type": "attached", "session": {"id": key[0]}}))
        self.attaches += 1
        self.sockets[key] = ws
        await self._agent(key).attach(TransportPipe(WebSocketsTransport(ws)))
        await ws.wait_closed()

    def _agent(self, key: Key) -> Conversation:
        if key not in self.agents:
            self.agents[key] = Conversation(FROM_AGENT, TOWARD_AGENT)
            self._tasks.append(asyncio.create_task(self._play(key)))
        return self.agents[key]

    async def _play(self, key: Key) -> None:
        conversation = self.agents[key]
        await conversation.attached.wait()
        await self.behaviour(self, key, conversation)

    def drop(self, key: Key) -> None:
        """Cut the TCP connection under this session's WebSocket (no close frame)."""
        self.sockets[key].transport.abort()


# --- behaviours (the agent's side) -----------------------------------------------------------


async def stdin_until_eof(conversation: Conversation) -> bytes:
    got = bytearray()
    while True:
        stream, data = await conversation.receive()
        if stream is Stream.STDIN:
            got += data
        elif parse_event(data)["type"] == "eof":
            return bytes(got)


async def exit_with(conversation: Conversation, code: int | None = 0, signal: int | None = None) -> None:
    """The process's exit status, then the server's end of the session (as the real server sends them)."""
    await conversation.send_event(Stream.CTL_OUT, {"type": "exit", "code": code, "signal": signal})
    reason = f"exited with code {code}" if signal is None else f"killed by signal {signal}"
    await conversation.send_event(Stream.CTL_OUT, {"type": "end", "reason": reason})


async def echo_then_exit(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
    """Echo STDIN to STDOUT as it comes; at eof a line on STDERR and exit code 3."""
    while True:
        stream, data = await conversation.receive()
        if stream is Stream.STDIN:
            await conversation.send(Stream.STDOUT, data)
        elif parse_event(data)["type"] == "eof":
            break
    await conversation.send(Stream.STDERR, b"remote: done\n")
    await exit_with(conversation, 3)


def payload(size: int) -> bytes:
    return hashlib.shake_256(b"rampart session").digest(size)


def streaming(size: int, drop_at: int) -> Behaviour:
    """STDOUT of ``size`` bytes in 16 KiB pieces; the first WebSocket is cut once ``drop_at`` bytes went."""

    async def behaviour(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
        data, sent = payload(size), 0
        while sent < size:
            await conversation.send(Stream.STDOUT, data[sent : sent + 16384])
            sent += 16384
            if server.attaches == 1 and sent >= drop_at:
                server.drop(key)
        await exit_with(conversation, 0)

    return behaviour


def ending(reason: str) -> Behaviour:
    async def behaviour(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
        await conversation.send(Stream.STDOUT, b"bye\n")
        await conversation.send_event(Stream.CTL_OUT, {"type": "end", "reason": reason})
        await asyncio.sleep(0.05)
        await server.sockets[key].close(4410, "ended")

    return behaviour


def upload_sink(*, lie: bool = False) -> Behaviour:
    """Take the file on STDIN; report its size and SHA-256 (a wrong one when ``lie``)."""

    async def behaviour(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
        data = await stdin_until_eof(conversation)
        server.results[key] = data
        digest = hashlib.sha256(data + (b"x" if lie else b"")).hexdigest()
        await conversation.send_event(
            Stream.CTL_OUT, {"type": "copied", "bytes": len(data), "sha256": digest}
        )
        await exit_with(conversation, 0)

    return behaviour


def download_source(data: bytes, *, lie: bool = False, fail: bool = False) -> Behaviour:
    """Send ``data`` on STDOUT, then the report (wrong when ``lie``); ``fail``: an error and exit 1."""

    async def behaviour(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
        await conversation.send(Stream.STDOUT, data)
        if fail:
            await conversation.send(Stream.STDERR, b"cannot open /etc/shadow: Permission denied\n")
            await exit_with(conversation, 1)
            return
        digest = hashlib.sha256(data if not lie else data[:-1]).hexdigest()
        await conversation.send_event(
            Stream.CTL_OUT, {"type": "copied", "bytes": len(data), "sha256": digest}
        )
        await exit_with(conversation, 0)

    return behaviour


async def forward_echo(server: FakeSessionServer, key: Key, conversation: Conversation) -> None:
    """One forwarded connection whose target echoes; closed once the client's side ended."""
    while True:
        stream, data = await conversation.receive()
        if stream is Stream.STDIN:
            await conversation.send(Stream.STDOUT, data)
        elif parse_event(data)["type"] == "eof":
            break
    await conversation.send_event(Stream.CTL_OUT, {"type": "closed", "bytes_in": 0, "bytes_out": 0})


# --- the REST side ---------------------------------------------------------------------------


class FakeRest:
    """Answers the session endpoints; every request is kept."""

    def __init__(self, recording: dict[str, Any] | None = None) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.recording = recording

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, str(request.url), body))
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/sessions":
            return httpx.Response(201, json=session_info("s-1", body["kind"]))
        if path.endswith("/terminate"):
            return httpx.Response(204)
        if path.endswith("/recording"):
            return httpx.Response(200, json=self.recording)
        if path == "/api/v1/sessions":
            return httpx.Response(200, json={"sessions": [session_info("s-1", "shell")]})
        return httpx.Response(404, json={"detail": "no such session"})

    def bodies(self) -> list[Any]:
        return [body for method, _, body in self.requests if method == "POST" and body is not None]


def session_info(session_id: str, kind: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "kind": kind,
        "host_id": "h-0123456789abcdef",
        "hostname": "web-1",
        "user": "alice",
        "login": "alice",
        "started_at": "2026-01-01T00:00:00Z",
        "ended_at": None,
        "active": True,
    }


@contextmanager
def logged_in(client_env: Path, server_url: str, rest: FakeRest) -> Iterator[Connection]:
    """A stored login trusting the test CA, and every ApiClient the CLI makes answering from ``rest``."""
    save_config(client_env, ClientConfig(server_url, SECRET, PKI.ca_pem, "alice"))

    def factory(connection: Connection) -> ApiClient:
        transport = httpx.MockTransport(rest)
        return ApiClient(connection.server, connection.token, connection.ca_pem, transport=transport)

    with use_client_factory(factory):
        yield Connection(server_url, SECRET, PKI.ca_pem)
