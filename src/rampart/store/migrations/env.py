"""Alembic environment: runs migrations on the connection `rampart.store.engine.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from rampart.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run rampart migrations through rampart.store.engine.migrate")
_run(connection)
