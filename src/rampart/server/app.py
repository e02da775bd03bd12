"""Assembles the ASGI app: the route table, the agent link, error shapes and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool

from rampart import __version__
from rampart.errors import RampartError
from rampart.server.bodylimit import BodyLimit
from rampart.server.link import agent_link
from rampart.server.registry_scan import watch_registries
from rampart.server.rematch import watch_advisories
from rampart.server.routes import (
    advisories,
    audit,
    auth,
    enroll,
    fim,
    findings,
    harden,
    hosts,
    images,
    jointokens,
    registries,
    sessions,
    tokens,
    users,
)
from rampart.server.schemas import ERROR_RESPONSES
from rampart.server.state import ServerState
from rampart.server.ui import mount_ui
from rampart.store import sessions as session_store

API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024

# The route table: every router the API serves is listed here, nowhere else.
ROUTERS = (
    auth.router,
    users.router,
    tokens.router,
    jointokens.router,
    enroll.router,
    hosts.router,
    findings.router,
    advisories.router,
    audit.router,
    sessions.router,
    registries.router,
    images.router,
    fim.router,
    harden.router,
)


def create_app(state: ServerState, *, background: bool = True) -> FastAPI:
    """The API for one ServerState; `background` starts the advisory watcher."""
    app = FastAPI(
        title="rampart",
        version=__version__,
        lifespan=_lifespan(state, background),
        openapi_url=f"{API_PREFIX}/openapi.json",
        responses=ERROR_RESPONSES,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.rampart = state
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.add_api_websocket_route(f"{API_PREFIX}/agent/link", agent_link)
    app.add_api_websocket_route(f"{API_PREFIX}/sessions/{{session_id}}/attach", sessions.attach_session)
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    mount_ui(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(RampartError, _rampart_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _data_error)  # type: ignore[arg-type]
    return app


def _lifespan(state: ServerState, background: bool):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_close_orphaned_sessions, state)
        watchers = (
            [asyncio.create_task(w(state)) for w in (watch_advisories, watch_registries)]
            if background
            else []
        )
        try:
            yield
        finally:
            for watcher in watchers:
                watcher.cancel()
            await state.broker.close_all("server shutting down")
            await state.agents.close_all("server shutting down")

    return lifespan


def _close_orphaned_sessions(state: ServerState) -> None:
    """Sessions left open by a previous run of the server ended with it."""
    with state.session() as session:
        session_store.end_all_open(session, state.clock(), "the server restarted")


async def _health() -> dict[str, str]:
    return {"status": "ok"}


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part)[:64] for part in first.get("loc", ())) or "request"
    detail = f"{where}: {first.get('msg', 'invalid')}".encode("unicode_escape").decode("ascii")
    return JSONResponse({"detail": detail[:300]}, status_code=422)


async def _data_error(request: Request, error: DataError) -> JSONResponse:
    """A value the database cannot hold (PostgreSQL refuses NUL characters in text) is the client's error."""
    return JSONResponse({"detail": "the request holds a value the database cannot store"}, status_code=422)


async def _rampart_error(request: Request, error: RampartError) -> JSONResponse:
    return JSONResponse({"detail": error.message[:300]}, status_code=400)
