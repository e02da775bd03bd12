"""File integrity on agents: each host's latest check and its changed paths.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _host_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["host_id"], ["hosts.id"], name=op.f(f"fk_{table}_host_id_hosts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "fim_status",
        sa.Column("host_id", sa.String(length=64), nullable=False),
        _when("checked_at"),
        sa.Column("baseline_created", sa.String(length=512), nullable=False),
        sa.Column("baseline_digest", sa.String(length=512), nullable=False),
        sa.Column("key_id", sa.String(length=512), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("unreadable", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Text(), nullable=False),
        _host_key("fim_status"),
        sa.PrimaryKeyConstraint("host_id", name=op.f("pk_fim_status")),
    )
    op.create_table(
        "fim_changes",
        sa.Column("host_id", sa.String(length=64), nullable=False),
        sa.Column("path_sha256", sa.String(length=64), nullable=False),
        sa.Column("path_b64", sa.String(length=8192), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("package", sa.String(length=512), nullable=True),
        sa.Column("note", sa.String(length=512), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("first_seen_at"),
        _when("last_seen_at"),
        _when("resolved_at", nullable=True),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        _when("accepted_at", nullable=True),
        sa.Column("accepted_reason", sa.Text(), nullable=True),
        sa.Column("accepted_fingerprint", sa.String(length=64), nullable=True),
        _host_key("fim_changes"),
        sa.PrimaryKeyConstraint("host_id", "path_sha256", name=op.f("pk_fim_changes")),
    )
    op.create_index("ix_fim_changes_status_host_id", "fim_changes", ["status", "host_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fim_changes_status_host_id", table_name="fim_changes")
    for table in ("fim_changes", "fim_status"):
        op.drop_table(table)
