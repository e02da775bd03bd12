"""Hand-made wire documents and models for the client, CLI and fleet renderer tests (one hostile host)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rampart.client.models import Finding, FleetSummary, Host, HostSummary

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOST_A = "h-0123456789abcdef"
HOST_B = "h-fedcba9876543210"
HOST_EVIL = "h-00000000000000ee"


def host_json(host_id: str = HOST_A, hostname: str = "web-1", **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": host_id,
        "hostname": hostname,
        "os": {"id": "debian", "version": "12", "pretty": "Debian GNU/Linux 12 (bookworm)"},
        "agent_version": "0.1.0",
        "tags": {"env": "prod", "team": "payments"},
        "enrolled_at": "2026-11-01T09:00:00Z",
        "last_seen_at": "2026-11-28T11:58:00Z",
        "revoked_at": None,
        "connected": True,
        "status": "online",
        "packages": 412,
        "open_findings": 3,
    }
    document.update(extra)
    return document


def finding_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "host_id": HOST_A,
        "hostname": "web-1",
        "ecosystem": "Debian:12",
        "package": "openssl",
        "version": "3.0.11-1~deb12u1",
        "vulnerability_id": "CVE-2024-0727",
        "aliases": ["DSA-5621-1"],
        "severity": "MEDIUM",
        "fixed_versions": ["3.0.13-1~deb12u1"],
        "summary": "PKCS12 NULL dereference",
        "status": "open",
        "first_seen_at": "2026-11-20T08:00:00Z",
        "last_seen_at": "2026-11-28T11:58:00Z",
        "fixed_at": None,
    }
    document.update(extra)
    return document


def sample_hosts() -> list[Host]:
    return [
        Host.from_json(host_json()),
        Host.from_json(
            host_json(
                HOST_B,
                "db-1",
                status="stale",
                connected=False,
                last_seen_at="2026-11-25T06:00:00Z",
                os={"id": "ubuntu", "version": "22.04", "pretty": None},
                tags={},
            )
        ),
        Host.from_json(
            host_json(
                HOST_EVIL,
                "evil\x1b[2J\nhost",
                status="revoked",
                connected=False,
                last_seen_at=None,
                revoked_at="2026-11-27T00:00:00Z",
                agent_version=None,
                tags={"team": "x\u202eevil"},
            )
        ),
    ]


def sample_findings() -> list[Finding]:
    return [
        Finding.from_json(finding_json()),
        Finding.from_json(
            finding_json(
                vulnerability_id="CVE-2024-5535",
                severity="CRITICAL",
                fixed_versions=[],
                aliases=[],
                summary='SSL_select_next_proto buffer overread, "quoted", with a comma',
            )
        ),
        Finding.from_json(
            finding_json(
                host_id=HOST_B,
                hostname="db-1",
                ecosystem="PyPI",
                package='=HYPERLINK("http://x")',
                version="1.0",
                vulnerability_id="GHSA-xxxx-yyyy-zzzz",
                severity="HIGH",
                summary="line one\nline two\r\n@at start",
                status="fixed",
                fixed_at="2026-11-27T10:00:00Z",
            )
        ),
        Finding.from_json(
            finding_json(
                host_id=HOST_EVIL,
                hostname="evil\x1b[2J\nhost",
                package="-pkg\u202e",
                vulnerability_id="CVE-2024-0727",
                severity="LOW",
                summary="+cmd|' /C calc'!A0",
            )
        ),
    ]


def sample_fleet_summary() -> FleetSummary:
    return FleetSummary(3, {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 0}, 3)


def sample_host_summaries() -> list[HostSummary]:
    return [
        HostSummary(HOST_A, "web-1", {"CRITICAL": 1, "MEDIUM": 1}, 1),
        HostSummary(HOST_B, "db-1", {"HIGH": 1}, 1),
    ]
