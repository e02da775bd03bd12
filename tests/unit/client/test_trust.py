"""Trust: CA files and pins (valid, wrong, malformed, huge), and real TLS against a local HTTPS server:
refused without the CA, accepted with exactly the stored CA, and the ``--ca-sha256`` login flow."""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rampart.client.api import ApiClient
from rampart.client.config import load_config
from rampart.client.trust import ca_fingerprint, check_ca_pem, check_pin, parse_pin, tls_context
from rampart.errors import ClientError, UsageError
from unit.client.pki import Pki, make_pki

PKI = make_pki()


def test_check_ca_pem_accepts_one_ca_and_normalises_it() -> None:
    assert check_ca_pem("junk before\n" + PKI.ca_pem).startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a PEM"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a PEM"),
        (PKI.ca_pem + PKI.ca_pem, "found 2"),
        (PKI.cert_pem, "not a CA"),
        ("A" * 100_000, "larger"),
        ("\x00\xff" * 10, "not a PEM"),
    ],
)
def test_check_ca_pem_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(ClientError, match=message):
        check_ca_pem(text)


def test_pins() -> None:
    digest = ca_fingerprint(PKI.ca_pem)
    assert parse_pin("SHA256:" + ":".join(digest[i : i + 2] for i in range(0, 64, 2)).upper()) == digest
    assert check_pin(PKI.ca_pem, digest) == check_ca_pem(PKI.ca_pem)
    with pytest.raises(ClientError, match="does not match"):
        check_pin(PKI.ca_pem, "00" * 32)
    for bad in ("", "abc", "zz" * 32, "ab" * 33):
        with pytest.raises(UsageError):
            parse_pin(bad)


def test_tls_context_is_verifying_and_modern() -> None:
    context = tls_context(PKI.ca_pem)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    with pytest.raises(ClientError, match="not a valid certificate"):
        tls_context("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


def test_fetch_pinned_ca_checks_the_pin_itself() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        return httpx.Response(
            200, json={"certificate_pem": PKI.ca_pem, "sha256": "00" * 32}
        )  # the claim is ignored

    api = ApiClient("https://a.example", None, transport=httpx.MockTransport(handler))
    assert api.fetch_pinned_ca(ca_fingerprint(PKI.ca_pem)) == check_ca_pem(PKI.ca_pem)
    with pytest.raises(ClientError, match="does not match"):
        api.fetch_pinned_ca("11" * 32)


class _Handler(BaseHTTPRequestHandler):
    """Answers GET /api/v1/ca and /api/v1/auth/whoami, POST /api/v1/auth/login."""

    pki: Pki = PKI

    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/api/v1/ca":
            self._json({"certificate_pem": self.pki.ca_pem, "sha256": ca_fingerprint(self.pki.ca_pem)})
        else:
            token = {
                "id": "0123456789abcdef",
                "name": "login",
                "scopes": ["read"],
                "expires_at": "2030-01-01T00:00:00Z",
            }
            self._json({"name": "alice", "roles": ["viewer"], "tags": {}, "token": token})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        user = {"name": "alice", "roles": ["viewer"], "tags": {}}
        self._json(
            {"token": "rpt_0123456789abcdef_" + "z" * 43, "expires_at": "2030-01-01T00:00:00Z", "user": user}
        )

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_text(PKI.cert_pem)
    (folder / "key.pem").write_text(PKI.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_an_untrusted_server_is_refused(https_server: str) -> None:
    with ApiClient(https_server, "rpt_x", None, 5.0) as api, pytest.raises(ClientError) as error:
        api.whoami()
    assert error.value.message.startswith(f"TLS verification of {https_server} failed")


def test_a_different_ca_is_refused(https_server: str) -> None:
    with (
        ApiClient(https_server, "rpt_x", make_pki().ca_pem, 5.0) as api,
        pytest.raises(ClientError, match="TLS"),
    ):
        api.whoami()


def test_the_stored_ca_is_trusted(https_server: str) -> None:
    with ApiClient(https_server, "rpt_x", PKI.ca_pem, 5.0) as api:
        assert api.whoami().name == "alice"


def test_login_with_a_pin_against_a_real_tls_server(https_server: str, client_env: Path) -> None:
    from rampart.cli.main import app

    pin = "sha256:" + hashlib.sha256(b"").hexdigest()
    wrong = CliRunner().invoke(
        app,
        ["login", "--server", https_server, "-u", "alice", "--ca-sha256", pin],
        env={"RAMPART_PASSWORD": "pw"},
    )
    assert isinstance(wrong.exception, ClientError) and "does not match" in wrong.exception.message
    assert not client_env.exists()
    good = ca_fingerprint(PKI.ca_pem)
    result = CliRunner().invoke(
        app,
        ["login", "--server", https_server, "-u", "alice", "--ca-sha256", good],
        env={"RAMPART_PASSWORD": "pw"},
    )
    assert result.exit_code == 0, (result.output, result.exception)
    stored = load_config(client_env)
    assert stored.ca_pem == check_ca_pem(PKI.ca_pem) and stored.token and stored.token not in result.output
    whoami = CliRunner().invoke(app, ["whoami"], env={})
    assert json.loads(whoami.stdout)["name"] == "alice"


def test_login_with_a_ca_file(https_server: str, client_env: Path, tmp_path: Path) -> None:
    from rampart.cli.main import app

    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(PKI.ca_pem)
    result = CliRunner().invoke(
        app,
        ["login", "--server", https_server, "-u", "alice", "--ca", str(ca_file)],
        env={"RAMPART_PASSWORD": "pw"},
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert load_config(client_env).ca_pem == check_ca_pem(PKI.ca_pem)
