"""Serving the app with uvicorn over TLS (1.2 minimum), with access logs that never carry secrets."""

from __future__ import annotations

import logging
import ssl

import uvicorn

from rampart.pki.tlsfiles import TlsFiles
from rampart.server import tlsbuffers
from rampart.server.app import create_app
from rampart.server.bootstrap import build_state, check_listen, ensure_tls
from rampart.server.config import ServerConfig

WS_MAX_MESSAGE = 80 * 1024
# WebSocket pings find a client whose network went silent (no FIN, no reset), so its sessions start
# their grace period; agent links also have their own keepalive on the link itself.
WS_PING_INTERVAL = 20.0
WS_PING_TIMEOUT = 20.0


def uvicorn_config(config: ServerConfig, tls: TlsFiles) -> uvicorn.Config:
    """A loaded uvicorn config whose TLS context refuses anything older than TLS 1.2."""
    state = build_state(config, tls)
    app = create_app(state)
    server_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        ssl_certfile=str(tls.cert),
        ssl_keyfile=str(tls.key),
        ws="websockets-sansio",
        ws_max_size=WS_MAX_MESSAGE,
        ws_ping_interval=WS_PING_INTERVAL,
        ws_ping_timeout=WS_PING_TIMEOUT,
        ws_per_message_deflate=False,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    server_config.load()
    if server_config.ssl is not None:
        server_config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
    return server_config


def serve(config: ServerConfig) -> None:
    """Run the server until interrupted."""
    check_listen(config)
    tls = ensure_tls(config)
    logging.getLogger("rampart").setLevel(logging.INFO)
    tlsbuffers.install()
    uvicorn.Server(uvicorn_config(config, tls)).run()
