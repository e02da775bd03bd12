"""Engines, sessions and migrations for SQLite and PostgreSQL.

SQLite connections run in WAL mode with foreign keys on and a busy timeout; transactions opened
through `write_session` start with ``BEGIN IMMEDIATE`` so that writers queue instead of failing.
PostgreSQL goes through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

DATABASE_FILE = "rampart.sqlite3"
BUSY_TIMEOUT_MS = 30_000
POOL_SIZE, POOL_OVERFLOW = 20, 30  # the ASGI thread pool runs up to 40 handlers at once
_WRITE_OPTION = "rampart_write"
_PG_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg2://")

SessionFactory = sessionmaker[Session]


def sqlite_url(data_dir: Path) -> str:
    """The URL of the SQLite database file in ``data_dir``."""
    return f"sqlite+pysqlite:///{(data_dir / DATABASE_FILE).resolve()}"


def normalize_url(url: str) -> str:
    """Rewrite plain PostgreSQL URLs to the psycopg 3 driver; other URLs pass through."""
    for prefix in _PG_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether the engine (or connection) talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite+pysqlite:///...`` or a PostgreSQL URL)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def _configure_sqlite(engine: Engine) -> None:
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)


def _on_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly in _on_sqlite_begin
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "synchronous=FULL",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def session_factory(engine: Engine) -> SessionFactory:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def write_session(factory: SessionFactory) -> Iterator[Session]:
    """A session whose transaction takes the write lock up front (SQLite); commits on success."""
    with factory() as session:
        session.connection(execution_options={_WRITE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def take_write_lock(session: Session) -> None:
    """On SQLite, take the database write lock now (a no-op write) so later reads cannot go stale.

    Only useful as the first statement of a transaction; PostgreSQL locks rows instead, so this
    does nothing there.
    """
    if is_sqlite(session.connection()):
        session.execute(text("UPDATE audit_head SET seq = seq WHERE 0 = 1"))


@contextmanager
def read_session(factory: SessionFactory) -> Iterator[Session]:
    """A session for reading; rolled back at the end."""
    with factory() as session:
        yield session


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest migration."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def alembic_config(connection: Connection | None = None) -> Any:
    """The alembic configuration of the migrations shipped in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config
