"""TLS contexts against a real TLS server on 127.0.0.1: TLS 1.1 refused, 1.2 and 1.3 served, pinning enforced."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rampart.pki.ca import CertificateAuthority
from rampart.pki.tlsconfig import client_context, server_context
from rampart.pki.tlsfiles import TlsFiles, ensure_server_tls


class TlsServer:
    """Accepts connections on a thread; each handshake that succeeds is answered with the TLS version."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(str(tls.version()).encode())
            except (ssl.SSLError, OSError):
                conn.close()

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        self.thread.join(timeout=10)


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    return ensure_server_tls(tmp_path, ["localhost", "127.0.0.1"], datetime.now(UTC))


@pytest.fixture
def server(tls_files: TlsFiles) -> Iterator[TlsServer]:
    running = TlsServer(server_context(tls_files.cert, tls_files.key))
    yield running
    running.close()


def _talk(server: TlsServer, context: ssl.SSLContext, hostname: str = "localhost") -> str:
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        return tls.recv(64).decode()


def _client(tls_files: TlsFiles, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = client_context(tls_files.ca_cert.read_text())
    context.minimum_version = context.maximum_version = version
    return context


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_12_and_13_are_served(server: TlsServer, tls_files: TlsFiles, version: ssl.TLSVersion) -> None:
    expected = "TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3"
    assert _talk(server, _client(tls_files, version)) == expected


def test_default_client_negotiates_the_newest(server: TlsServer, tls_files: TlsFiles) -> None:
    assert _talk(server, client_context(tls_files.ca_cert.read_text()), "127.0.0.1") == "TLSv1.3"


def test_tls_11_is_refused_by_the_server(server: TlsServer, tls_files: TlsFiles) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=tls_files.ca_cert.read_text())
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as caught:
        _talk(server, context)
    assert (
        caught.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    )  # the server answered the 1.1 hello with an alert


def test_client_pinned_to_another_ca_is_refused(server: TlsServer) -> None:
    other = CertificateAuthority.create("other", datetime.now(UTC))
    with pytest.raises(ssl.SSLCertVerificationError):
        _talk(server, client_context(other.certificate_pem))


def test_client_checks_the_host_name(server: TlsServer, tls_files: TlsFiles) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"mismatch|match"):
        _talk(server, client_context(tls_files.ca_cert.read_text()), "wrong.example")


def test_contexts_have_the_tls_12_floor(tls_files: TlsFiles) -> None:
    assert server_context(tls_files.cert, tls_files.key).minimum_version == ssl.TLSVersion.TLSv1_2
    system = client_context(None)
    assert system.minimum_version == ssl.TLSVersion.TLSv1_2
    assert system.verify_mode == ssl.CERT_REQUIRED and system.check_hostname
