"""Access sessions, TOTP second factors on users, and the second-factor mark on API tokens.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        users.add_column(sa.Column("totp_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()))
        users.add_column(sa.Column("totp_last_counter", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.add_column(sa.Column("mfa", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("client_address", sa.String(length=512), nullable=False),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("target", sa.String(length=512), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("policies", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_host_id"), "sessions", ["host_id"], unique=False)
    op.create_index(op.f("ix_sessions_user_name"), "sessions", ["user_name"], unique=False)
    op.create_index(op.f("ix_sessions_started_at"), "sessions", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_table("sessions")
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.drop_column("mfa")
    with op.batch_alter_table("users") as users:
        users.drop_column("totp_last_counter")
        users.drop_column("totp_confirmed")
        users.drop_column("totp_secret")
