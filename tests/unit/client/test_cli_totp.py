"""``rampart login --totp``, the code prompt, and ``rampart users totp enroll|confirm|reset``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.testing
from typer.testing import CliRunner

from rampart.cli.main import app
from rampart.client.api import ApiClient
from rampart.client.config import load_config
from rampart.errors import ApiError, UsageError
from unit.client.fake import SECRET, TOTP_SECRET, FakeApi, injected

SERVER = "https://rampart.example:8443"
ENV = {"RAMPART_SERVER": SERVER, "RAMPART_TOKEN": SECRET}
LOGIN = ["login", "--server", SERVER, "--user", "alice"]


def run(fake: FakeApi, args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    with injected(fake):
        environment = {"COLUMNS": "200", **(ENV if env is None else env)}
        return CliRunner().invoke(app, args, env=environment, input=stdin)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's stdin looks like a terminal."""
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True)


def test_login_with_totp_sends_the_code_and_says_so(client_env: Path) -> None:
    fake = FakeApi(totp_code="123456")
    result = run(fake, [*LOGIN, "--totp", "123456", "--format", "table"], env={"RAMPART_PASSWORD": "pw"})
    assert result.exit_code == 0, result.output
    assert fake.called("login") == [(("alice", "pw"), {"totp": "123456"})]
    assert "with a second factor" in result.stdout and SECRET not in result.output
    assert load_config(client_env).token == SECRET


def test_login_json_shows_mfa(client_env: Path) -> None:
    result = run(FakeApi(totp_code="123456"), [*LOGIN, "--totp", "123456"], env={"RAMPART_PASSWORD": "pw"})
    assert json.loads(result.stdout)["mfa"] is True


def test_a_needed_code_is_asked_for_at_a_terminal(client_env: Path, terminal: None) -> None:
    fake = FakeApi(totp_code="654321")
    result = run(fake, LOGIN, env={"RAMPART_PASSWORD": "pw"}, stdin="654321\n")
    assert result.exit_code == 0, result.output
    assert [call[1] for call in fake.called("login")] == [{}, {"totp": "654321"}]
    assert load_config(client_env).token == SECRET


def test_without_a_terminal_a_needed_code_is_a_usage_error(client_env: Path) -> None:
    result = run(FakeApi(totp_code="654321"), LOGIN, env={"RAMPART_PASSWORD": "pw"})
    assert isinstance(result.exception, UsageError) and "--totp" in result.exception.message
    assert load_config(client_env).token is None


def test_a_wrong_code_is_not_asked_again(client_env: Path, terminal: None) -> None:
    fake = FakeApi(totp_code="654321")
    result = run(fake, [*LOGIN, "--totp", "000000"], env={"RAMPART_PASSWORD": "pw"}, stdin="654321\n")
    assert isinstance(result.exception, ApiError) and "invalid TOTP code" in result.exception.message
    assert len(fake.called("login")) == 1


def test_a_wrong_password_is_not_followed_by_a_prompt(terminal: None) -> None:
    fake = FakeApi(fail={"login": ApiError(401, "server said 401: wrong user name or password")})
    result = run(fake, LOGIN, env={"RAMPART_PASSWORD": "pw"}, stdin="123456\n")
    assert isinstance(result.exception, ApiError) and len(fake.called("login")) == 1


def test_whoami_shows_mfa() -> None:
    assert "mfa      no" in run(FakeApi(), ["whoami", "--format", "table"]).stdout


def test_enroll_prints_the_uri_and_secret_for_yourself() -> None:
    fake = FakeApi()
    result = run(fake, ["users", "totp", "enroll", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert fake.called("enroll_totp") == [(("alice",), {})]  # whoami said alice
    assert TOTP_SECRET in result.stdout and "otpauth://totp/rampart:alice" in result.stdout
    assert "rampart users totp confirm" in result.stdout


def test_enroll_for_someone_else_as_json() -> None:
    fake = FakeApi()
    document = json.loads(run(fake, ["users", "totp", "enroll", "bob"]).stdout)
    assert document == {**document, "user": "bob", "secret": TOTP_SECRET}
    assert not fake.called("whoami")


def test_confirm_and_reset() -> None:
    fake = FakeApi()
    assert run(fake, ["users", "totp", "confirm", " 123456 "]).exit_code == 0
    assert fake.called("confirm_totp") == [(("alice", "123456"), {})]
    assert isinstance(run(fake, ["users", "totp", "reset", "bob"]).exception, UsageError)  # no --yes, no tty
    result = run(fake, ["users", "totp", "reset", "bob", "--yes"])
    assert result.exit_code == 0 and fake.called("reset_totp") == [(("bob",), {})]


def _client(handler: Any) -> ApiClient:
    return ApiClient(SERVER, SECRET, transport=httpx.MockTransport(handler))


def test_api_client_totp_calls_hit_the_right_routes() -> None:
    seen: list[tuple[str, str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode(), request.content))
        if request.url.path.endswith("/login"):
            body = {"token": SECRET, "expires_at": "2030-01-01T00:00:00Z", "mfa": True}
            return httpx.Response(200, json={**body, "user": {"name": "a", "roles": [], "tags": {}}})
        if request.method == "POST" and request.url.path.endswith("/totp"):
            return httpx.Response(201, json={"secret": TOTP_SECRET, "uri": "otpauth://totp/x"})
        return httpx.Response(204)

    with _client(handler) as client:
        assert client.login("a", "pw", totp="123456").mfa is True
        enrolment = client.enroll_totp("a/b")
        client.confirm_totp("a", "123456")
        client.reset_totp("a")
    assert TOTP_SECRET not in repr(enrolment)
    assert [(m, p) for m, p, _ in seen] == [
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/users/a%2Fb/totp"),
        ("POST", "/api/v1/users/a/totp/confirm"),
        ("DELETE", "/api/v1/users/a/totp"),
    ]
    assert json.loads(seen[0][2])["totp"] == "123456" and json.loads(seen[2][2]) == {"code": "123456"}


def test_api_client_login_without_totp_sends_no_totp_field() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(401, json={"detail": "a TOTP code is required"})

    with _client(handler) as client, pytest.raises(ApiError, match="a TOTP code is required") as caught:
        client.login("a", "pw")
    assert caught.value.status == 401 and "totp" not in json.loads(bodies[0])
