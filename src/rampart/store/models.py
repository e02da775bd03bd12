"""Declarative models of every table, one set for SQLite and PostgreSQL.

Times are `UTCDateTime` (aware UTC); tags, roles, scopes and advisory lists are `JSONText`.
Package source fields use ``""`` for "none" so the distinct-package key stays unique on both
databases (NULLs never collide in a unique constraint).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rampart.store.types import JSONText, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SHORT = 64
TEXT = 512
AUTO_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(JSONText)
    tags: Mapped[dict[str, str]] = mapped_column(JSONText)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(SHORT))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_counter: Mapped[int] = mapped_column(BigInteger, default=0)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str] = mapped_column(String(SHORT))
    scopes: Mapped[list[str]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)


class JoinToken(Base):
    __tablename__ = "join_tokens"
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(SHORT))
    tags: Mapped[dict[str, str]] = mapped_column(JSONText)
    created_by: Mapped[str] = mapped_column(String(SHORT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host_id: Mapped[str | None] = mapped_column(String(SHORT))


class Host(Base):
    __tablename__ = "hosts"
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), index=True)
    os_id: Mapped[str] = mapped_column(String(SHORT), default="")
    os_version: Mapped[str] = mapped_column(String(SHORT), default="")
    os_pretty: Mapped[str] = mapped_column(String(TEXT), default="")
    agent_version: Mapped[str] = mapped_column(String(SHORT), default="")
    tags: Mapped[dict[str, str]] = mapped_column(JSONText, default=dict)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_key_pem: Mapped[str] = mapped_column(Text)
    cert_serial: Mapped[str] = mapped_column(String(SHORT), index=True)
    cert_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_cert_serial: Mapped[str | None] = mapped_column(String(SHORT), index=True)
    inventory_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Result(Base):
    __tablename__ = "results"
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(SHORT))
    size: Mapped[int] = mapped_column(BigInteger)


class PackageRow(Base):
    __tablename__ = "packages"
    __table_args__ = (
        UniqueConstraint("ecosystem", "name", "version", "source_name", "source_version", "managed_by"),
    )
    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    ecosystem: Mapped[str] = mapped_column(String(TEXT))
    name: Mapped[str] = mapped_column(String(TEXT), index=True)
    version: Mapped[str] = mapped_column(String(TEXT))
    source_name: Mapped[str] = mapped_column(String(TEXT), default="")
    source_version: Mapped[str] = mapped_column(String(TEXT), default="")
    managed_by: Mapped[str] = mapped_column(String(SHORT), default="")
    judged_build: Mapped[str | None] = mapped_column(String(TEXT))


class HostPackage(Base):
    __tablename__ = "host_packages"
    __table_args__ = (Index("ix_host_packages_package_id_host_id", "package_id", "host_id"),)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, type_=AUTO_ID
    )
    location: Mapped[str] = mapped_column(Text, default="")
    extractor: Mapped[str] = mapped_column(String(SHORT), default="")


class PackageVuln(Base):
    __tablename__ = "package_vulns"
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, type_=AUTO_ID
    )
    vulnerability_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer)
    fixed_versions: Mapped[list[str]] = mapped_column(JSONText)
    aliases: Mapped[list[str]] = mapped_column(JSONText)
    summary: Mapped[str] = mapped_column(Text, default="")
    mark: Mapped[str] = mapped_column(String(SHORT), default="")  # the re-match that last wrote the row


class FindingRow(Base):
    """A host's finding; the advisory fields are copied so a fixed finding keeps what it said.

    Few indexes on purpose: a re-match may insert hundreds of thousands of rows at once.
    """

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_package_id_vulnerability_id", "package_id", "vulnerability_id"),)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True)
    # no foreign key to packages: package rows are never deleted, and the check would cost a
    # re-match a fifth of its time when it opens findings by the hundred thousand
    package_id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer)
    fixed_versions: Mapped[list[str]] = mapped_column(JSONText)
    aliases: Mapped[list[str]] = mapped_column(JSONText)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHORT))
    hash: Mapped[str] = mapped_column(String(SHORT))


class AuditHead(Base):
    """The single row (id 1) holding the chain head; locking it serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(SHORT))


class FleetState(Base):
    __tablename__ = "fleet_state"
    key: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def as_dict(row: Any) -> dict[str, Any]:
    """A model instance's column values by name."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


class SessionRow(Base):
    """One access session (shell, exec, forward or copy) and how it ended."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    host_id: Mapped[str] = mapped_column(String(SHORT), index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    user_name: Mapped[str] = mapped_column(String(SHORT), index=True)
    login: Mapped[str] = mapped_column(String(SHORT))
    client_address: Mapped[str] = mapped_column(String(TEXT))
    command: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(String(TEXT))
    path: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str | None] = mapped_column(String(16))
    policies: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    bytes_in: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_out: Mapped[int] = mapped_column(BigInteger, default=0)


class RegistryRow(Base):
    """A container registry the server scans: where it is and whether it speaks plain HTTP."""

    __tablename__ = "registries"
    name: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    platform: Mapped[str] = mapped_column(String(SHORT), default="")
    created_by: Mapped[str] = mapped_column(String(SHORT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepositoryRow(Base):
    """A repository of a registry whose tags (those matching ``tags``, glob patterns) are scanned."""

    __tablename__ = "image_repositories"
    __table_args__ = (UniqueConstraint("registry_name", "name"),)
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    registry_name: Mapped[str] = mapped_column(ForeignKey("registries.name", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    tags: Mapped[list[str]] = mapped_column(JSONText)
    created_by: Mapped[str] = mapped_column(String(SHORT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")


class ImageRow(Base):
    """One tag of a scanned repository: the digest it named when last scanned and what that scan found."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("repository_id", "tag"),)
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    repository_id: Mapped[str] = mapped_column(
        ForeignKey("image_repositories.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(TEXT))
    tag: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(128), default="")
    os_id: Mapped[str] = mapped_column(String(SHORT), default="")
    os_version: Mapped[str] = mapped_column(String(SHORT), default="")
    os_pretty: Mapped[str] = mapped_column(String(TEXT), default="")
    layers: Mapped[list[str]] = mapped_column(JSONText)
    notes: Mapped[list[str]] = mapped_column(JSONText)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")


class ImagePackage(Base):
    """A package of an image, and the layer that brought it."""

    __tablename__ = "image_packages"
    __table_args__ = (Index("ix_image_packages_package_id_image_id", "package_id", "image_id"),)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True, type_=AUTO_ID
    )
    location: Mapped[str] = mapped_column(Text, default="")
    extractor: Mapped[str] = mapped_column(String(SHORT), default="")
    layer: Mapped[str] = mapped_column(String(128), default="")


class ImageFindingRow(Base):
    """An image's finding: the same shape as a host's, keyed by image."""

    __tablename__ = "image_findings"
    __table_args__ = (
        Index("ix_image_findings_package_id_vulnerability_id", "package_id", "vulnerability_id"),
    )
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    severity: Mapped[int] = mapped_column(Integer)
    fixed_versions: Mapped[list[str]] = mapped_column(JSONText)
    aliases: Mapped[list[str]] = mapped_column(JSONText)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FimStatusRow(Base):
    """A host's latest applied file integrity check: when, against which baseline, and any refusal."""

    __tablename__ = "fim_status"
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    baseline_created: Mapped[str] = mapped_column(String(TEXT), default="")
    baseline_digest: Mapped[str] = mapped_column(String(TEXT), default="")
    key_id: Mapped[str] = mapped_column(String(TEXT), default="")
    entries: Mapped[int] = mapped_column(BigInteger, default=0)
    unreadable: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[str] = mapped_column(Text, default="")


class FimChangeRow(Base):
    """One changed path of a host: what changed, why, and whether someone accepted the state it is in.

    ``path_b64`` is base64 of the path's bytes and ``path`` its escaped display text. The key is the
    SHA-256 of the bytes (``path_sha256``): a path's base64 can be 5,464 characters, more than a
    PostgreSQL index entry holds. ``accepted_fingerprint`` is the state an acceptance covers: the change
    stays accepted only in that state.
    """

    __tablename__ = "fim_changes"
    __table_args__ = (Index("ix_fim_changes_status_host_id", "status", "host_id"),)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True)
    path_sha256: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    path_b64: Mapped[str] = mapped_column(String(8192))
    path: Mapped[str] = mapped_column(Text)
    change: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))
    package: Mapped[str | None] = mapped_column(String(TEXT))
    note: Mapped[str | None] = mapped_column(String(TEXT))
    attributes: Mapped[list[dict[str, str]]] = mapped_column(JSONText)
    fingerprint: Mapped[str] = mapped_column(String(SHORT))
    status: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(SHORT))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_reason: Mapped[str | None] = mapped_column(Text)
    accepted_fingerprint: Mapped[str | None] = mapped_column(String(SHORT))


class HardenRunRow(Base):
    """One hardening run of a host under one profile: when, its score and how many rules had each status.

    ``id`` is the result id (idempotency); ``error`` says why no run was made (then the counts are 0).
    """

    __tablename__ = "harden_runs"
    __table_args__ = (Index("ix_harden_runs_host_id_profile_started", "host_id", "profile", "started"),)
    id: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    profile: Mapped[str] = mapped_column(String(80))
    profile_title: Mapped[str] = mapped_column(String(TEXT), default="")
    benchmark: Mapped[str] = mapped_column(String(SHORT), default="")
    target_kind: Mapped[str] = mapped_column(String(16), default="host")
    job_id: Mapped[str | None] = mapped_column(String(TEXT))
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=100.0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    na: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    manual: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class HardenResultRow(Base):
    """A rule's latest status on a host under a profile, and when it last changed (from what).

    ``previous_status`` is None until the status first changes; ``changed_at`` is the start of the run that
    set the current status (its first run, or the run where it changed).
    """

    __tablename__ = "harden_results"
    __table_args__ = (Index("ix_harden_results_status_rule", "status", "rule"),)
    host_id: Mapped[str] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True)
    profile: Mapped[str] = mapped_column(String(80), primary_key=True)
    rule: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(TEXT))
    section: Mapped[str] = mapped_column(String(TEXT))
    cis: Mapped[list[str]] = mapped_column(JSONText)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[list[str]] = mapped_column(JSONText)
    reason: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[str] = mapped_column(String(SHORT))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_status: Mapped[str | None] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
