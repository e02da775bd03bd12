"""The server's long-lived objects, built once at start and shared by every request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from rampart.pki.ca import CertificateAuthority
from rampart.pki.pem import fingerprint
from rampart.policy.authorizer import Authorizer
from rampart.server.agents import AgentRegistry
from rampart.server.config import ServerConfig
from rampart.server.ratelimit import RateLimiter
from rampart.store.audit_store import DatabaseAuditLog
from rampart.store.engine import read_session, write_session

if TYPE_CHECKING:
    from rampart.server.sessions.broker import SessionBroker

Clock = Callable[[], datetime]
INGEST_SLOTS = 2  # uploads stored at once: more only adds lock waits on a small server


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock; tests inject their own)."""
    return datetime.now(UTC)


@dataclass
class RateLimits:
    """The limits on unauthenticated endpoints, per client address and per user name."""

    login_by_address: RateLimiter = field(default_factory=lambda: RateLimiter(burst=20, per_minute=30))
    login_by_user: RateLimiter = field(default_factory=lambda: RateLimiter(burst=5, per_minute=5))
    enroll_by_address: RateLimiter = field(default_factory=lambda: RateLimiter(burst=50, per_minute=60))


@dataclass
class ServerState:
    """Everything a request handler may need, in one place."""

    config: ServerConfig
    engine: Engine
    sessions: sessionmaker[Session]
    authorizer: Authorizer
    audit: DatabaseAuditLog
    ca: CertificateAuthority
    agents: AgentRegistry
    trust_pem: str
    trust_sha256: str = field(init=False)
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Clock = utc_now
    rematch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    registry_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ingest_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(INGEST_SLOTS))
    broker: SessionBroker = field(init=False)

    def __post_init__(self) -> None:
        from rampart.server.sessions.broker import SessionBroker

        self.trust_sha256 = fingerprint(self.trust_pem)  # what join tokens pin; asked on every handshake
        self.broker = SessionBroker(self)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A writing session: it takes the write lock up front (SQLite), commits on success."""
        with write_session(self.sessions) as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session (concurrent with writers on both databases)."""
        with read_session(self.sessions) as session:
            yield session
