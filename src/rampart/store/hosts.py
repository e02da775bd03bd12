"""Host rows: enrol, look up (by id, hostname or certificate serial), list with filters, seen, revoke, rotate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rampart.store.models import Host

HostStatus = Literal["active", "stale", "revoked"]


def add_host(
    session: Session,
    *,
    host_id: str,
    hostname: str,
    os_id: str | None,
    os_version: str | None,
    os_pretty: str | None,
    agent_version: str,
    tags: Mapping[str, str],
    enrolled_at: datetime,
    public_key_pem: str,
    cert_serial: str,
    cert_expires_at: datetime,
) -> Host:
    """Store a newly enrolled host."""
    host = Host(
        id=host_id,
        hostname=hostname,
        os_id=os_id or "",
        os_version=os_version or "",
        os_pretty=os_pretty or "",
        agent_version=agent_version,
        tags=dict(tags),
        enrolled_at=enrolled_at,
        last_seen_at=None,
        revoked_at=None,
        public_key_pem=public_key_pem,
        cert_serial=cert_serial,
        cert_expires_at=cert_expires_at,
        previous_cert_serial=None,
        inventory_at=None,
    )
    session.add(host)
    session.flush()
    return host


def get_host(session: Session, host_id: str) -> Host | None:
    """The host with this id, or None."""
    return session.get(Host, host_id)


def find_host(session: Session, id_or_hostname: str) -> Host | None:
    """The host with this id, else the most recently enrolled host with this hostname."""
    host = session.get(Host, id_or_hostname)
    if host is not None:
        return host
    query = select(Host).where(Host.hostname == id_or_hostname).order_by(Host.enrolled_at.desc()).limit(1)
    return session.scalars(query).first()


def find_host_by_serial(session: Session, serial: str) -> Host | None:
    """The host whose current or previous certificate has this serial."""
    query = select(Host).where(or_(Host.cert_serial == serial, Host.previous_cert_serial == serial))
    return session.scalars(query.limit(1)).first()


def host_status(host: Host, stale_before: datetime | None) -> HostStatus:
    """Revoked, stale (not seen since ``stale_before``) or active."""
    if host.revoked_at is not None:
        return "revoked"
    if stale_before is not None and (host.last_seen_at is None or host.last_seen_at < stale_before):
        return "stale"
    return "active"


def list_hosts(
    session: Session,
    tag: tuple[str, str] | None = None,
    status: HostStatus | None = None,
    stale_before: datetime | None = None,
    host_ids: set[str] | None = None,
) -> list[Host]:
    """Hosts by hostname, keeping those with tag ``key=value``, ``status`` and in ``host_ids``."""
    hosts: Sequence[Host] = session.scalars(select(Host).order_by(Host.hostname, Host.id)).all()
    return [
        h
        for h in hosts
        if (tag is None or h.tags.get(tag[0]) == tag[1])
        and (status is None or host_status(h, stale_before) == status)
        and (host_ids is None or h.id in host_ids)
    ]


def mark_seen(session: Session, host_id: str, now: datetime) -> None:
    """Record that the host was heard from at ``now``."""
    host = session.get(Host, host_id)
    if host is not None and (host.last_seen_at is None or host.last_seen_at < now):
        host.last_seen_at = now
        session.flush()


def revoke_host(session: Session, host_id: str, now: datetime) -> Host | None:
    """Revoke a host (the first revocation time is kept); None when there is no such host."""
    host = session.get(Host, host_id)
    if host is not None and host.revoked_at is None:
        host.revoked_at = now
        session.flush()
    return host


def rotate_credential(
    session: Session, host_id: str, public_key_pem: str, cert_serial: str, cert_expires_at: datetime
) -> Host | None:
    """Install a renewed certificate, keeping the current serial as the previous one."""
    host = session.get(Host, host_id)
    if host is None:
        return None
    host.previous_cert_serial = host.cert_serial
    host.public_key_pem, host.cert_serial, host.cert_expires_at = public_key_pem, cert_serial, cert_expires_at
    session.flush()
    return host


def update_os(session: Session, host_id: str, os_id: str, os_version: str, os_pretty: str) -> None:
    """Refresh what the host reports about its operating system."""
    host = session.get(Host, host_id)
    if host is not None:
        host.os_id, host.os_version, host.os_pretty = os_id[:64], os_version[:64], os_pretty[:512]
        session.flush()
