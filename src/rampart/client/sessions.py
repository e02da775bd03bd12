"""Sessions from the client's side: the REST calls under ``/api/v1/sessions`` and `attach`.

`attach` keeps one resumable Conversation attached to ``/api/v1/sessions/{id}/attach``: it sends the
token in the first text message, waits for ``attached``, then hands the WebSocket to the Conversation.
When the connection drops without an application close code it reconnects with jittered backoff and
re-attaches the same Conversation, whose replay makes the resumption lossless; a 4xxx close code is
final and becomes a one-line `AttachRefused`. TLS trusts exactly what the stored login trusts.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from rampart.agent.backoff import Backoff
from rampart.client.api import _segment
from rampart.client.trust import check_server_url, tls_context
from rampart.errors import ApiError, ClientError, LinkError, SessionError
from rampart.link.transport import WebSocketsTransport
from rampart.report.escape import safe_text
from rampart.session import records
from rampart.session.records import Stream
from rampart.session.streams import Conversation, TransportPipe

if TYPE_CHECKING:
    from rampart.client.api import ApiClient
    from rampart.client.config import Connection

UPSTREAM = (Stream.STDIN, Stream.CTL_IN)
DOWNSTREAM = (Stream.STDOUT, Stream.STDERR, Stream.CTL_OUT)
WS_MAX_MESSAGE = records.HEADER_SIZE + records.MAX_PAYLOAD + 1024  # one record; room for the "attached" text
HANDSHAKE_TIMEOUT = 15.0
DEFAULT_GRACE = 60.0
RECONNECT = Backoff(base=0.2, cap=5.0)
CLOSE_MESSAGES = {
    4401: "the server refused the token (log in again with `rampart login`)",
    4403: "not allowed to attach to this session",
    4404: "no such session",
    4409: "the session already has a controlling client (watch it with `rampart session join`)",
    4410: "session ended",
    4422: "the host could not start it",
}
PER_CONNECTION = 4422  # one forwarded connection failed on the host; the session goes on
_RETRYABLE = (OSError, TimeoutError, WebSocketException, LinkError)

AttachedCallback = Callable[[dict[str, Any]], None]


class AttachRefused(SessionError):
    """The server closed the attach WebSocket with an application code (4xxx): final, never retried."""

    exit_code = 255

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def client_conversation() -> Conversation:
    """The client's side of a session: it sends STDIN and CTL_IN, receives STDOUT, STDERR and CTL_OUT."""
    return Conversation(outgoing=UPSTREAM, incoming=DOWNSTREAM)


# --- REST ----------------------------------------------------------------------------------------


def create_session(client: ApiClient, host: str, kind: str, **params: object) -> dict[str, Any]:
    """``POST /sessions``: a new session of ``kind`` on ``host``; parameters left as None are not sent."""
    body = {"host": host, "kind": kind, **{k: v for k, v in params.items() if v is not None}}
    return _info(client._call("POST", "/sessions", json=body, expect=(200, 201)))


def list_sessions(client: ApiClient, active: bool | None = None) -> list[dict[str, Any]]:
    params = [] if active is None else [("active", "true" if active else "false")]
    answer = client._call("GET", "/sessions", params=params)
    items = answer.get("sessions") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise ApiError(0, "the server's list of sessions is malformed")
    return [_info(item) for item in items]


def get_session(client: ApiClient, session_id: str) -> dict[str, Any]:
    return _info(client._call("GET", f"/sessions/{_segment(session_id)}"))


def terminate_session(client: ApiClient, session_id: str) -> None:
    client._call("POST", f"/sessions/{_segment(session_id)}/terminate", expect=(200, 202, 204))


def get_recording(client: ApiClient, session_id: str, sanitize: bool = False) -> dict[str, Any]:
    """``GET /sessions/{id}/recording``: ``{"session", "verified", "header", "events", "end"}``."""
    params = [("sanitize", "true")] if sanitize else []
    answer = client._call("GET", f"/sessions/{_segment(session_id)}/recording", params=params)
    if not isinstance(answer, dict) or not isinstance(answer.get("events"), list):
        raise ApiError(0, "the server's recording is malformed")
    if not isinstance(answer.get("verified"), bool):
        raise ApiError(0, "the server's recording does not say whether it verified")
    return answer


def _info(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ApiError(0, "the server's session description is malformed")
    return value


# --- attach --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    url: str
    ssl: ssl.SSLContext | None
    hello: str


def _target(config: Connection, session_id: str, mode: str, connection: int | None) -> _Target:
    if not config.token:
        raise ClientError("not logged in: run `rampart login` or set RAMPART_TOKEN")
    if mode not in ("control", "observe"):
        raise SessionError(f"attach mode must be control or observe, not {mode!r}")
    server = check_server_url(config.server)
    secure = server.startswith("https://")
    base = "wss://" + server.removeprefix("https://") if secure else "ws://" + server.removeprefix("http://")
    url = f"{base}/api/v1/sessions/{_segment(session_id)}/attach"
    hello = {"token": config.token, "mode": mode, "connection": connection}
    return _Target(url, tls_context(config.ca_pem) if secure else None, orjson.dumps(hello).decode())


async def attach(
    config: Connection,
    session_id: str,
    mode: str,
    connection: int | None,
    conversation: Conversation,
    *,
    on_attached: AttachedCallback | None = None,
    grace: float = DEFAULT_GRACE,
    rand: Callable[[], float] = random.random,
) -> None:
    """Keep ``conversation`` attached until it is closed.

    Raises AttachRefused for a final close code, SessionError when ``grace`` seconds pass without a
    working connection, ClientError when the server cannot be trusted.
    """
    target = _target(config, session_id, mode, connection)
    lost_at, attempt = time.monotonic(), 0
    while not conversation.closed:
        ws, why = await _try_attach(target, conversation, on_attached)
        if ws is not None:
            attempt = 0
            await _stay(ws, conversation)
            lost_at = time.monotonic()
            continue
        if time.monotonic() - lost_at > grace:
            raise SessionError(f"lost the connection to the server for more than {grace:g} s ({why})")
        attempt += 1
        await asyncio.sleep(RECONNECT.delay(attempt, rand()))


async def _try_attach(
    target: _Target, conversation: Conversation, on_attached: AttachedCallback | None
) -> tuple[ClientConnection | None, str]:
    """A connected, attached WebSocket, or None and why it failed in a way worth retrying."""
    try:
        ws = await _open(target)
    except _RETRYABLE as error:
        return None, _why(error)
    try:
        info = await _handshake(ws, target)
        await conversation.attach(TransportPipe(WebSocketsTransport(ws)))
    except _RETRYABLE as error:
        await ws.close()
        _raise_if_final(ws)
        return None, _why(error)
    except BaseException:
        await ws.close()
        raise
    if on_attached is not None:
        on_attached(info)
    return ws, ""


async def _open(target: _Target) -> ClientConnection:
    try:
        return await connect(
            target.url,
            ssl=target.ssl,
            compression=None,
            max_size=WS_MAX_MESSAGE,
            open_timeout=HANDSHAKE_TIMEOUT,
            close_timeout=5,
        )
    except ssl.SSLCertVerificationError:
        raise ClientError(
            "TLS verification of the server failed; trust its CA with `rampart login --ca FILE`"
        ) from None
    except InvalidStatus as error:
        status = error.response.status_code
        if status >= 500:
            raise
        raise AttachRefused(status, f"the server refused to attach (HTTP {status})") from None


async def _handshake(ws: ClientConnection, target: _Target) -> dict[str, Any]:
    """Send the token, mode and connection; the server's ``attached`` answer carries the SessionInfo."""
    await ws.send(target.hello)
    reply = await asyncio.wait_for(ws.recv(), HANDSHAKE_TIMEOUT)
    try:
        body = orjson.loads(reply)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or body.get("type") != "attached":
        raise SessionError("the server did not confirm the attach")
    session = body.get("session")
    return session if isinstance(session, dict) else {}


async def _stay(ws: ClientConnection, conversation: Conversation) -> None:
    """Wait until the conversation loses this connection; a final close code ends everything."""
    await conversation.detached.wait()
    await ws.close()
    if not conversation.closed:
        _raise_if_final(ws)


def _raise_if_final(ws: ClientConnection) -> None:
    code = ws.close_code
    if code is None or not 4000 <= code < 5000:
        return
    reason = safe_text(ws.close_reason or "")
    message = CLOSE_MESSAGES.get(code) or f"the server closed the session ({code}: {reason or 'no reason'})"
    if reason and code in {4410, PER_CONNECTION}:
        message = f"{message}: {reason}"
    raise AttachRefused(code, message)


def _why(error: BaseException) -> str:
    if isinstance(error, ConnectionClosed):
        return "the connection closed"
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return safe_text(str(text))[:200]
