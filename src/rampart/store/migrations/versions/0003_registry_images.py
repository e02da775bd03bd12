"""Registries, repositories and images the server scans, with their packages and findings.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "registries",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("insecure", sa.Boolean(), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registries")),
    )
    op.create_table(
        "image_repositories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("registry_name", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("polled_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registry_name"],
            ["registries.name"],
            name=op.f("fk_image_repositories_registry_name_registries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_repositories")),
        sa.UniqueConstraint("registry_name", "name", name=op.f("uq_image_repositories_registry_name_name")),
    )
    op.create_index(
        op.f("ix_image_repositories_registry_name"), "image_repositories", ["registry_name"], unique=False
    )
    op.create_table(
        "images",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("repository_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=512), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("os_id", sa.String(length=64), nullable=False),
        sa.Column("os_version", sa.String(length=64), nullable=False),
        sa.Column("os_pretty", sa.String(length=512), nullable=False),
        sa.Column("layers", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        _when("first_seen_at"),
        _when("scanned_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["image_repositories.id"],
            name=op.f("fk_images_repository_id_image_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("repository_id", "tag", name=op.f("uq_images_repository_id_tag")),
    )
    op.create_index(op.f("ix_images_repository_id"), "images", ["repository_id"], unique=False)
    op.create_table(
        "image_packages",
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", AUTO_ID, nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_packages_image_id_images"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["packages.id"],
            name=op.f("fk_image_packages_package_id_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "package_id", name=op.f("pk_image_packages")),
    )
    op.create_index(
        "ix_image_packages_package_id_image_id", "image_packages", ["package_id", "image_id"], unique=False
    )
    op.create_table(
        "image_findings",
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", AUTO_ID, nullable=False),
        sa.Column("vulnerability_id", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("fixed_versions", sa.Text(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        _when("first_seen_at"),
        _when("last_seen_at"),
        _when("fixed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_findings_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "package_id", "vulnerability_id", name=op.f("pk_image_findings")),
    )
    op.create_index(
        "ix_image_findings_package_id_vulnerability_id",
        "image_findings",
        ["package_id", "vulnerability_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in ("image_findings", "image_packages", "images", "image_repositories", "registries"):
        op.drop_table(table)
