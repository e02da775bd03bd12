"""Building a ServerState from a ServerConfig: data directory, TLS, database, policies, audit log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from rampart.audit.sinks import JsonLinesFileSink
from rampart.auth.passwords import check_password_policy, hash_password
from rampart.errors import ServerConfigError, UsageError
from rampart.pki.tlsfiles import TlsFiles, ensure_ca, ensure_server_tls
from rampart.policy.authorizer import Authorizer
from rampart.server.agents import AgentRegistry
from rampart.server.config import ServerConfig
from rampart.server.state import ServerState
from rampart.store import users as user_store
from rampart.store.audit_store import DatabaseAuditLog
from rampart.store.engine import make_engine, migrate, session_factory, sqlite_url

ADMIN_ROLES = ["admin"]


def prepare_data_dir(config: ServerConfig) -> None:
    """Create the data directory (0700) or refuse one that others can read."""
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if config.data_dir.stat().st_mode & 0o077:
        config.data_dir.chmod(0o700)


def ensure_tls(config: ServerConfig) -> TlsFiles:
    """The CA and server certificate (created on first start), or the operator's own files.

    With the operator's own certificate, `tls_ca` (the CA that issued it) is what agents and
    clients pin; rampart's own CA still signs agent certificates.
    """
    if config.tls_cert is not None and config.tls_ca is None:
        raise ServerConfigError(
            "with --tls-cert, give --tls-ca: the CA certificate agents and clients should trust"
        )
    files = ensure_server_tls(
        config.data_dir, list(config.tls_names), datetime.now(UTC), cert=config.tls_cert, key=config.tls_key
    )
    return files if config.tls_ca is None else replace(files, ca_cert=config.tls_ca)


def build_state(config: ServerConfig, tls: TlsFiles | None = None) -> ServerState:
    """Everything the app needs, with the database migrated to the current schema."""
    prepare_data_dir(config)
    tls = tls or ensure_tls(config)
    engine = make_engine(config.database_url or sqlite_url(config.data_dir))
    migrate(engine)
    sessions = session_factory(engine)
    audit = DatabaseAuditLog(sessions, mirror=JsonLinesFileSink(config.audit_mirror))
    return ServerState(
        config=config,
        engine=engine,
        sessions=sessions,
        authorizer=Authorizer.from_files(config.policy_file) if config.policy_file else Authorizer.default(),
        audit=audit,
        ca=ensure_ca(config.data_dir, datetime.now(UTC)),
        agents=AgentRegistry(),
        trust_pem=tls.ca_cert.read_text(),
    )


def create_admin(state: ServerState, name: str, password: str) -> None:
    """Create the first administrator; refused once any user exists."""
    check_password_policy(password, username=name)
    with state.session() as session:
        if user_store.count_users(session) > 0:
            raise UsageError("the server already has users; create more with 'rampart users create'")
        user_store.create_user(session, name, hash_password(password), ADMIN_ROLES, {}, state.clock())
    state.audit.append("server-init", "user.create", f"user:{name}", "success", {"roles": "admin"})


def check_listen(config: ServerConfig) -> None:
    """Refuse an unusable port before uvicorn starts."""
    if not 0 < config.port < 65536:
        raise ServerConfigError(f"port {config.port} is out of range")
