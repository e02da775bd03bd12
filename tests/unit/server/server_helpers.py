"""Server-test helpers: the `Api` wrapper over a TestClient, CSRs, a settable clock, generous rate limits."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.exceptions import StarletteDeprecationWarning

from rampart.audit.events import AuditEvent
from rampart.errors import LinkClosed
from rampart.link.channel import Channel
from rampart.server.agents import AgentConnection
from rampart.server.app import API_PREFIX
from rampart.server.bootstrap import build_state, create_admin
from rampart.server.config import ServerConfig
from rampart.server.ratelimit import RateLimiter
from rampart.server.state import RateLimits, ServerState
from rampart.store.engine import write_session
from rampart.store.models import FindingRow, HostPackage, PackageRow

with warnings.catch_warnings():
    # starlette's TestClient still works on httpx (the venv has no httpx2); only that notice is silenced
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

ADMIN = "root"
PASSWORD = "correct-horse-battery-7"


class Clock:
    """A settable clock for the server (tokens expire against it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)  # the CA is made with the real clock

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def generous_limits() -> RateLimits:
    """Limits no ordinary test reaches (every TestClient request comes from one address)."""
    return RateLimits(
        login_by_address=RateLimiter(burst=10_000, per_minute=10_000),
        login_by_user=RateLimiter(burst=10_000, per_minute=10_000),
        enroll_by_address=RateLimiter(burst=10_000, per_minute=10_000),
    )


def csr_pem(key: Any | None = None) -> str:
    """A self-signed CSR for ``key`` (default: a new EC P-256 key)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent")])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Api:
    """The app under test plus shortcuts; every path is relative to /api/v1."""

    client: TestClient
    state: ServerState
    clock: Clock
    admin_token: str = ""
    sent_jobs: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, API_PREFIX + path, headers=headers, **kwargs)

    def login(self, name: str, password: str = PASSWORD) -> str:
        response = self.call("POST", "/auth/login", json={"username": name, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def create_user(self, name: str, roles: list[str], tags: dict[str, str] | None = None) -> None:
        body = {"name": name, "password": PASSWORD, "roles": roles, "tags": tags or {}}
        response = self.call("POST", "/users", self.admin_token, json=body)
        assert response.status_code == 201, response.text

    def user(self, name: str, roles: list[str], tags: dict[str, str] | None = None) -> str:
        """Create a user and log them in; their token."""
        self.create_user(name, roles, tags)
        return self.login(name)

    def token(self, token: str, scopes: list[str], expires_in: int = 3600, name: str = "t") -> dict[str, Any]:
        body = {"name": name, "scopes": scopes, "expires_in": expires_in}
        response = self.call("POST", "/tokens", token, json=body)
        assert response.status_code == 201, response.text
        issued: dict[str, Any] = response.json()
        return issued

    def join_token(self, tags: dict[str, str] | None = None, expires_in: int = 3600) -> str:
        body = {"tags": tags or {}, "expires_in": expires_in}
        response = self.call("POST", "/join-tokens", self.admin_token, json=body)
        assert response.status_code == 201, response.text
        wire: str = response.json()["token"]
        return wire

    def enroll(self, token: str, hostname: str = "web-1", csr: str | None = None) -> Any:
        body = {"token": token, "csr_pem": csr or csr_pem(), "hostname": hostname, "agent_version": "0.1.0"}
        return self.call("POST", "/enroll", json=body)

    def host(self, hostname: str, tags: dict[str, str] | None = None) -> str:
        """Enroll a host through the API; its id."""
        response = self.enroll(self.join_token(tags), hostname)
        assert response.status_code == 201, response.text
        host_id: str = response.json()["host_id"]
        return host_id

    def finding(self, host_id: str, package: str, vulnerability_id: str) -> None:
        """Store one open finding on the host (as a re-match would)."""
        with write_session(self.state.sessions) as session:
            row = PackageRow(ecosystem="Debian:12", name=package, version="1.0", judged_build="b")
            session.add(row)
            session.flush()
            session.add(HostPackage(host_id=host_id, package_id=row.id))
            session.add(
                FindingRow(
                    host_id=host_id,
                    package_id=row.id,
                    vulnerability_id=vulnerability_id,
                    severity=4,
                    fixed_versions=["1.1"],
                    aliases=[],
                    summary="",
                    status="open",
                    first_seen_at=self.clock.now,
                    last_seen_at=self.clock.now,
                )
            )

    def connect_agent(self, host_id: str) -> None:
        """Pretend the host's agent holds a link, recording the jobs sent to it."""

        async def send(message: dict[str, Any]) -> None:
            self.sent_jobs.append(message)

        async def close(reason: str) -> None:
            return None

        async def open_channel(kind: str, priority: str, meta: Mapping[str, Any]) -> Channel:
            raise LinkClosed("this test agent opens no channels")

        asyncio.run(self.state.agents.register(AgentConnection(host_id, send, close, open_channel)))

    def audit(self) -> list[AuditEvent]:
        return list(self.state.audit.events())

    def audit_lines(self) -> list[str]:
        """Every line of the database chain and of the JSON-lines mirror."""
        from rampart.audit.codec import to_line

        mirror = self.state.config.audit_mirror
        lines = mirror.read_text().splitlines() if mirror.exists() else []
        return [to_line(event) for event in self.audit()] + lines


def make_state(data_dir: Path, database_url: str, clock: Clock) -> ServerState:
    state = build_state(ServerConfig(data_dir=data_dir, database_url=database_url))
    state.clock = clock
    state.limits = generous_limits()
    create_admin(state, ADMIN, PASSWORD)
    return state
