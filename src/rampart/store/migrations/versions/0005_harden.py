"""Hardening on agents: each host's runs per profile, and each rule's latest status and when it changed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _host_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["host_id"], ["hosts.id"], name=op.f(f"fk_{table}_host_id_hosts"), ondelete="CASCADE"
    )


def _count(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "harden_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host_id", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=80), nullable=False),
        sa.Column("profile_title", sa.String(length=512), nullable=False),
        sa.Column("benchmark", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=512), nullable=True),
        _when("started"),
        _when("received_at"),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        *(_count(name) for name in ("passed", "failed", "na", "errors", "manual")),
        sa.Column("error", sa.Text(), nullable=True),
        _host_key("harden_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harden_runs")),
    )
    op.create_index(
        "ix_harden_runs_host_id_profile_started",
        "harden_runs",
        ["host_id", "profile", "started"],
        unique=False,
    )
    op.create_table(
        "harden_results",
        sa.Column("host_id", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=80), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("section", sa.String(length=512), nullable=False),
        sa.Column("cis", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        _when("checked_at"),
        sa.Column("previous_status", sa.String(length=16), nullable=True),
        _when("changed_at"),
        _host_key("harden_results"),
        sa.PrimaryKeyConstraint("host_id", "profile", "rule", name=op.f("pk_harden_results")),
    )
    op.create_index("ix_harden_results_status_rule", "harden_results", ["status", "rule"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_harden_results_status_rule", table_name="harden_results")
    op.drop_index("ix_harden_runs_host_id_profile_started", table_name="harden_runs")
    for table in ("harden_results", "harden_runs"):
        op.drop_table(table)
