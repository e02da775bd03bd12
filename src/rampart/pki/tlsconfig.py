"""TLS contexts with rampart's floor: TLS 1.2 minimum for both servers and clients.

`server_context` serves a certificate chain; `client_context` trusts either exactly one given CA
(pinned: the system store is not consulted) or the system's default CAs, and always checks the
server's host name.
"""

from __future__ import annotations

import ssl
from pathlib import Path

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context presenting ``cert`` (PEM chain) with ``key``, refusing anything below TLS 1.2."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(certfile=cert, keyfile=key)
    return context


def client_context(ca_pem: str | None) -> ssl.SSLContext:
    """A client context trusting only ``ca_pem`` if given (else the system CAs), TLS 1.2 minimum."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = MINIMUM_VERSION
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if ca_pem is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.load_verify_locations(cadata=ca_pem)
    return context
