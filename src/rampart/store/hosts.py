"""Host rows: enrol, look up (by id or hostname), list, mark seen, revoke, rotate credentials.

A host's status (online, stale, ...) depends on its live link, so the server decides it, not the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rampart.store.models import Host


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


def list_hosts(session: Session) -> list[Host]:
    """Every host, by hostname."""
    return list(session.scalars(select(Host).order_by(Host.hostname, Host.id)))


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
