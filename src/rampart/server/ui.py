"""The browser console: static files under /ui/, the / redirect, and the security headers they carry.

The page is plain HTML, CSS and ES modules (no build step, nothing from a CDN); it talks to the
same-origin API with a bearer token kept in sessionStorage. Every UI response carries a strict
Content-Security-Policy, so no inline script or style and no foreign origin can run in it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_PREFIX = "/ui"
STATIC_DIR = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-cache"),
)


class SecureHeaders:
    """Wraps an ASGI app so every HTTP response it sends carries SECURITY_HEADERS (replacing any same-named)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_security_headers(message.get("headers", []))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    ours = {name for name, _ in SECURITY_HEADERS}
    return [(k, v) for k, v in headers if k.lower() not in ours] + list(SECURITY_HEADERS)


async def _to_ui() -> RedirectResponse:
    return RedirectResponse(f"{UI_PREFIX}/", status_code=307)


def mount_ui(app: FastAPI, directory: Path = STATIC_DIR) -> None:
    """Serve the console from `directory` at /ui/ and send / and /ui to it."""
    app.add_api_route("/", _to_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(UI_PREFIX, _to_ui, methods=["GET"], include_in_schema=False)
    files = StaticFiles(directory=directory, html=True, check_dir=True)
    app.mount(UI_PREFIX, SecureHeaders(files), name="ui")
