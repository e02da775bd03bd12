"""Access sessions: start one, list, show, terminate, attach (WebSocket), and read recordings.

Starting a session authorizes the action on the host with Cedar (context: second factor, source
address, time), picks the RunAs login from the user's ``runas`` tag or the server default (root only
when a policy allows ``session.root``), and audits every allow and deny with the deciding policies.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, WebSocket, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rampart.errors import RampartError, RecordingError
from rampart.link.transport import StarletteTransport
from rampart.policy.model import host as host_entity
from rampart.policy.model import session_context
from rampart.recording.reader import read_recording
from rampart.recording.sanitize import neutralise
from rampart.server.deps import (
    Authenticated,
    Caller,
    State,
    authorize,
    caller_for_token,
    decide,
)
from rampart.server.routes.hosts import host_resource, load_host
from rampart.server.sessions.broker import RecordingUnavailable
from rampart.server.sessions.live import LiveSession, Observer
from rampart.server.sessions.spec import SessionSpec
from rampart.server.state import ServerState
from rampart.session.streams import TransportPipe
from rampart.store import hosts as host_store
from rampart.store import sessions as session_store
from rampart.store.models import SessionRow

router = APIRouter(prefix="/sessions", tags=["sessions"])
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
RUNAS_TAG = "runas"
NO_SUCH_SESSION = "no such session"
ATTACH_TIMEOUT = 10.0
CLOSE_UNAUTHORIZED, CLOSE_DENIED, CLOSE_MISSING, CLOSE_ENDED = 4401, 4403, 4404, 4410
CLOSE_NOT_STARTED = 4422  # one forwarded connection could not be opened on the host


class SessionCreate(BaseModel):
    """What to start: the host, the kind, and what the kind needs."""

    model_config = ConfigDict(extra="forbid")
    host: Annotated[str, Field(min_length=1, max_length=253)]
    kind: Literal["shell", "exec", "forward", "copy"]
    command: Annotated[str | None, Field(max_length=65536)] = None
    target: Annotated[str | None, Field(max_length=260, pattern=r"^[A-Za-z0-9._:\[\]-]+:[0-9]{1,5}$")] = None
    direction: Literal["upload", "download"] | None = None
    path: Annotated[str | None, Field(min_length=1, max_length=4096)] = None
    cols: Annotated[int, Field(ge=1, le=10000)] = 80
    rows: Annotated[int, Field(ge=1, le=10000)] = 24
    term: Annotated[str, Field(pattern=r"^[A-Za-z0-9._+-]{1,64}$")] = "xterm-256color"


class SessionInfo(BaseModel):
    id: str
    kind: str
    host_id: str
    hostname: str
    user: str
    login: str
    client_address: str
    started_at: Any
    ended_at: Any = None
    end_reason: str | None = None
    exit_code: int | None = None
    command: str | None = None
    target: str | None = None
    path: str | None = None
    direction: str | None = None
    active: bool


class SessionList(BaseModel):
    sessions: list[SessionInfo]


def session_info(row: SessionRow) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        kind=row.kind,
        host_id=row.host_id,
        hostname=row.hostname,
        user=row.user_name,
        login=row.login,
        client_address=row.client_address,
        started_at=row.started_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        exit_code=row.exit_code,
        command=row.command,
        target=row.target,
        path=row.path,
        direction=row.direction,
        active=row.ended_at is None,
    )


# -- starting --------------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionInfo)
async def start_session(body: SessionCreate, caller: Authenticated, state: State) -> SessionInfo:
    """Authorize and start a shell, command, port forward or file copy on a host."""
    spec = await run_in_threadpool(authorize_session, state, caller, body)
    if not state.agents.is_connected(spec.host_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"host {spec.hostname} is not connected")
    try:
        await state.broker.start(spec)
    except RecordingUnavailable as error:
        await run_in_threadpool(_audit_deny, state, caller, spec.host_id, spec.action, (), error.message)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, error.message) from None
    except RampartError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, error.message) from None
    await run_in_threadpool(_audit_start, state, spec)
    return await run_in_threadpool(_info, state, spec.id)


def authorize_session(state: ServerState, caller: Caller, body: SessionCreate) -> SessionSpec:
    """The checked SessionSpec, or the HTTP error (audited) that refuses it."""
    _check_kind_fields(body)
    host = load_host(state, caller, body.host, "host.read")
    spec = _spec(state, caller, body, host)
    policies = _decide_or_deny(state, caller, spec.action, host, "the policies do not allow this session")
    if spec.login == "root":
        why = "root logins need a policy allowing session.root"
        policies += _decide_or_deny(state, caller, "session.root", host, why)
    return replace(spec, policies=policies, allow_root=spec.login == "root")


def _check_kind_fields(body: SessionCreate) -> None:
    needed = {"exec": ("command",), "forward": ("target",), "copy": ("direction", "path")}.get(body.kind, ())
    missing = [name for name in needed if getattr(body, name) is None]
    if missing:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{body.kind} needs {', '.join(missing)}")


def _spec(state: ServerState, caller: Caller, body: SessionCreate, host: Any) -> SessionSpec:
    target_host, target_port = _split_target(body.target)
    return SessionSpec(
        id=uuid.uuid4().hex,
        kind=body.kind,
        host_id=host.id,
        hostname=host.hostname,
        user=caller.name,
        token_id=caller.token_id,
        login=_runas(state, caller),
        allow_root=False,
        client_address=caller.address,
        command=body.command,
        target_host=target_host,
        target_port=target_port,
        direction=body.direction,
        path=body.path,
        cols=body.cols,
        rows=body.rows,
        term=body.term,
    )


def _split_target(target: str | None) -> tuple[str | None, int | None]:
    if target is None:
        return None, None
    name, _, port = target.rpartition(":")
    if not 0 < int(port) < 65536 or not name.strip("[]"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"bad forward target {target!r}")
    return name.strip("[]"), int(port)


def _runas(state: ServerState, caller: Caller) -> str:
    login = caller.principal.tags.get(RUNAS_TAG) or state.config.session_default_login
    if not login:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"no OS user for {caller.name}: set their '{RUNAS_TAG}' tag or the server's default login",
        )
    if not LOGIN_NAME.fullmatch(login):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid OS user name {login[:40]!r}")
    return login


def _decide_or_deny(state: ServerState, caller: Caller, action: str, host: Any, why: str) -> tuple[str, ...]:
    """The policies that allowed ``action``; a denial is audited with its policies and becomes a 403."""
    context = session_context(mfa=caller.mfa, source_ip=caller.address, now=state.clock())
    decision = decide(state, caller, action, host_resource(host), context)
    if not decision.allowed:
        _audit_deny(state, caller, host.id, action, decision.policies, why)
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{why} ({action} on {host.hostname})")
    return decision.policies


def _audit_deny(
    state: ServerState, caller: Caller, host_id: str, action: str, policies: tuple[str, ...], why: str
) -> None:
    details = {
        "action": action,
        "why": why,
        "policies": ",".join(policies) or None,
        "address": caller.address,
    }
    state.audit.append(caller.name, "session.deny", f"host:{host_id}", "deny", details)


def _audit_start(state: ServerState, spec: SessionSpec) -> None:
    details = {
        "host": spec.host_id,
        "policies": ",".join(spec.policies),
        "kind": spec.kind,
        "login": spec.login,
        "address": spec.client_address,
        "command": (spec.command or "")[:300] or None,
        "target": spec.target,
        "path": spec.path,
    }
    state.audit.append(spec.user, "session.start", f"session:{spec.id}", "success", details)


# -- reading ---------------------------------------------------------------------------------


def _info(state: ServerState, session_id: str) -> SessionInfo:
    with state.reader() as session:
        row = session_store.get_session(session, session_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_SESSION)
    return session_info(row)


def _visible_row(state: ServerState, caller: Caller, session_id: str, action: str) -> SessionRow:
    """The session row, if the caller owns it or may ``action`` on its host; else 404."""
    with state.reader() as session:
        row = session_store.get_session(session, session_id[:64])
        host = host_store.get_host(session, row.host_id) if row else None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_SESSION)
    if row.user_name != caller.name or action == "recording.view":
        resource = host_resource(host) if host else host_entity(row.host_id, {})
        context = session_context(mfa=caller.mfa, source_ip=caller.address, now=state.clock())
        authorize(state, caller, action, resource, context, hide=NO_SUCH_SESSION)
    return row


@router.get("", response_model=SessionList)
def list_sessions(
    caller: Authenticated, state: State, active: Annotated[bool | None, Query()] = None
) -> SessionList:
    """Sessions the caller started or may read (newest first)."""
    with state.reader() as session:
        rows = session_store.list_sessions(session, active=active)
        hosts = {h.id: h for h in host_store.list_hosts(session)}
    resources = [host_resource(h) for h in hosts.values()]
    context = session_context(mfa=caller.mfa, source_ip=caller.address, now=state.clock())
    allowed = state.authorizer.filter_allowed(caller.principal, "session.read", resources, context)
    readable = {r.id for r in allowed}
    if "read" not in caller.scopes:
        readable = set()
    return SessionList(
        sessions=[session_info(r) for r in rows if r.user_name == caller.name or r.host_id in readable]
    )


@router.get("/{session_id}", response_model=SessionInfo)
def get_session(session_id: str, caller: Authenticated, state: State) -> SessionInfo:
    """One session."""
    return session_info(_visible_row(state, caller, session_id, "session.read"))


@router.post("/{session_id}/terminate", status_code=status.HTTP_204_NO_CONTENT)
async def terminate_session(session_id: str, caller: Authenticated, state: State) -> None:
    """End a live session now (its owner, or whoever may terminate sessions on its host)."""
    row = await run_in_threadpool(_visible_row, state, caller, session_id, "session.terminate")
    live = state.broker.get(row.id)
    if live is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the session has already ended")
    details = {"host": row.host_id, "address": caller.address}
    await run_in_threadpool(
        state.audit.append, caller.name, "session.terminate", f"session:{row.id}", "success", details
    )
    live.request_end(f"terminated by {caller.name}")


@router.get("/{session_id}/recording")
def get_recording(
    session_id: str, caller: Authenticated, state: State, sanitize: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    """The session's recording, verified; ``sanitize`` neutralises terminal answer-back sequences."""
    row = _visible_row(state, caller, session_id, "recording.view")
    try:
        recording = read_recording(state.broker.store, row.id, state.broker.signing_key.public_key())
    except RecordingError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, f"recording not usable: {error.message}") from None
    events = [
        [t, code, neutralise(data) if sanitize and code == "o" else data]
        for t, code, data in recording.events
    ]
    return {
        "session": session_info(row).model_dump(mode="json"),
        "verified": recording.complete and recording.verified,
        "header": recording.header,
        "events": events,
        "end": recording.end,
    }


# -- attaching -------------------------------------------------------------------------------


async def attach_session(websocket: WebSocket, session_id: str) -> None:
    """Attach a client (control, with resumption) or an observer to a live session."""
    state: ServerState = websocket.app.state.rampart
    await websocket.accept()
    transport = StarletteTransport(websocket)
    try:
        hello = await asyncio.wait_for(websocket.receive_text(), ATTACH_TIMEOUT)
        request = _attach_request(hello)
    except (TimeoutError, ValueError, RuntimeError, KeyError):
        await transport.close(CLOSE_UNAUTHORIZED, "the first message must be the attach request")
        return
    address = websocket.client.host if websocket.client else "unknown"
    caller = await run_in_threadpool(caller_for_token, state, request["token"], address)
    if caller is None:
        await transport.close(CLOSE_UNAUTHORIZED, "invalid, expired or revoked token")
        return
    await _attach(state, websocket, transport, caller, session_id[:64], request)


def _attach_request(text: str) -> dict[str, Any]:
    request = json.loads(text)
    if not isinstance(request, dict) or not isinstance(request.get("token"), str):
        raise ValueError("no token")
    if request.get("mode", "control") not in {"control", "observe"}:
        raise ValueError("bad mode")
    connection = request.get("connection")
    if connection is not None and (type(connection) is not int or not 0 < connection < 2**31):
        raise ValueError("bad connection")
    return request


async def _attach(
    state: ServerState,
    websocket: WebSocket,
    transport: StarletteTransport,
    caller: Caller,
    session_id: str,
    request: dict[str, Any],
) -> None:
    live = state.broker.get(session_id)
    if live is None:
        code, why = await run_in_threadpool(_why_not_live, state, caller, session_id)
        await transport.close(code, why)
        return
    if request.get("mode") == "observe":
        await _observe(state, websocket, transport, caller, live)
        return
    if caller.name != live.spec.user:
        await transport.close(
            CLOSE_DENIED, "only the session's owner controls it; observers use mode observe"
        )
        return
    await _control(live, transport, websocket, request.get("connection") or 0)


def _why_not_live(state: ServerState, caller: Caller, session_id: str) -> tuple[int, str]:
    try:
        row = _visible_row(state, caller, session_id, "session.read")
    except HTTPException:
        return CLOSE_MISSING, NO_SUCH_SESSION
    return CLOSE_ENDED, f"the session has ended: {row.end_reason or 'ended'}"[:120]


async def _control(
    live: LiveSession, transport: StarletteTransport, websocket: WebSocket, number: int
) -> None:
    leg = live.legs.get(number)
    if leg is None and (number == 0 or live.spec.kind != "forward"):
        await transport.close(CLOSE_ENDED, "no such part of the session")
        return
    if leg is None:
        try:
            leg = await live.open_leg(number)
        except RampartError as error:
            await transport.close(CLOSE_NOT_STARTED, error.message[:120])
            return
    await websocket.send_text(json.dumps({"type": "attached", "session": live.spec.id, "grace": live.grace}))
    try:
        await leg.client.attach(TransportPipe(transport, CLOSE_ENDED))
    except (RampartError, TimeoutError):
        await transport.close(CLOSE_ENDED, "attach failed")
        return
    await _wait_detached_or_ended(live, leg.client.detached)


async def _wait_detached_or_ended(live: LiveSession, detached: asyncio.Event) -> None:
    waits = [asyncio.create_task(detached.wait()), asyncio.create_task(live.ended.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()


async def _observe(
    state: ServerState, websocket: WebSocket, transport: StarletteTransport, caller: Caller, live: LiveSession
) -> None:
    host = await run_in_threadpool(_host_row, state, live.spec.host_id)
    try:
        await run_in_threadpool(
            _decide_or_deny, state, caller, "session.join", host, "joining is not allowed"
        )
    except HTTPException as error:
        await transport.close(CLOSE_DENIED, str(error.detail)[:120])
        return
    details = {"host": host.id, "address": caller.address}
    await run_in_threadpool(
        state.audit.append, caller.name, "session.join", f"session:{live.spec.id}", "success", details
    )
    await websocket.send_text(json.dumps({"type": "attached", "session": live.spec.id, "mode": "observe"}))
    observer = Observer(transport, caller.name)
    live.add_observer(observer)
    try:
        await _discard_until_closed(transport, observer, live)
    finally:
        live.observers.discard(observer)
        observer.task.cancel()
        await transport.close(1000, live.end_reason or "observer left")


async def _discard_until_closed(transport: StarletteTransport, observer: Observer, live: LiveSession) -> None:
    """Read (and drop) what an observer sends until it leaves, is cut off, or the session ends."""
    reader = asyncio.create_task(_drain(transport))
    ended = asyncio.create_task(live.ended.wait())
    try:
        await asyncio.wait([reader, ended, observer.task], return_when=asyncio.FIRST_COMPLETED)
    finally:
        reader.cancel()
        ended.cancel()


async def _drain(transport: StarletteTransport) -> None:
    while True:
        try:
            await transport.recv()
        except RampartError:
            return


def _host_row(state: ServerState, host_id: str) -> Any:
    with state.reader() as session:
        return host_store.get_host(session, host_id)
