"""Engine setup and migrations: URLs, SQLite pragmas, aware times, and models agreeing with migration 0001."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from rampart.store.engine import make_engine, migrate, normalize_url, sqlite_url
from rampart.store.models import Base, FleetState, User
from rampart.store.state import get_state, set_state


def test_sqlite_url_points_into_the_data_dir(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path) == f"sqlite+pysqlite:///{tmp_path.resolve()}/rampart.sqlite3"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite+pysqlite:////x.db", "sqlite+pysqlite:////x.db"),
    ],
)
def test_postgresql_urls_use_psycopg3(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sqlite_runs_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_models_and_migrations_agree(store_engine: Engine) -> None:
    with store_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrate_twice_is_harmless(store_engine: Engine) -> None:
    migrate(store_engine)
    with store_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        assert conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar() == 0


def test_times_come_back_aware_utc(store_sessions: sessionmaker[Session]) -> None:
    created = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    with store_sessions() as session:
        session.add(
            User(name="ann", password_hash="x", roles=[], tags={}, disabled=False, created_at=created)
        )
        session.commit()
    with store_sessions() as session:
        user = session.get(User, "ann")
        assert user is not None
        assert user.created_at == created and user.created_at.tzinfo is UTC


def test_naive_times_are_refused(store_sessions: sessionmaker[Session]) -> None:
    with store_sessions() as session:
        session.add(User(name="ann", password_hash="x", roles=[], tags={}, created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive"):
            session.flush()


def test_fleet_state_keeps_one_value_per_key(store_sessions: sessionmaker[Session]) -> None:
    with store_sessions() as session:
        assert get_state(session, "advisory_build") is None
        set_state(session, "advisory_build", "a")
        set_state(session, "advisory_build", "b")
        session.commit()
        assert get_state(session, "advisory_build") == "b"
        assert session.query(FleetState).count() == 1
