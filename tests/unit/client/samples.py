"""Hand-made wire documents and models for the client, CLI and fleet renderer tests (one hostile host)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rampart.client.models import (
    Finding,
    FleetSummary,
    Host,
    HostSummary,
    Image,
    ImageFinding,
    ImagePackage,
    Registry,
)

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
    return FleetSummary(
        3, {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 0}, 3, 2, {"HIGH": 2, "LOW": 1}, 1
    )


def sample_host_summaries() -> list[HostSummary]:
    return [
        HostSummary(HOST_A, "web-1", {"CRITICAL": 1, "MEDIUM": 1}, 1),
        HostSummary(HOST_B, "db-1", {"HIGH": 1}, 1),
    ]


# --- registries and images -------------------------------------------------------------------

IMAGE_A = "0123456789abcdef0123456789abcdef"
IMAGE_EVIL = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
DIGEST = "sha256:" + "ab12cd34ef56" + "0" * 52
LAYER = "sha256:" + "9f8e7d6c5b4a" + "1" * 52


def repository_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "registry": "local",
        "name": "team/app",
        "tags": ["1.*", "latest"],
        "created_by": "alice",
        "created_at": "2026-11-27T09:00:00Z",
        "polled_at": "2026-11-28T11:00:00Z",
        "error": "",
        "images": 2,
    }
    document.update(extra)
    return document


def registry_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "local",
        "host": "127.0.0.1:5000",
        "insecure": True,
        "platform": "linux/amd64",
        "created_by": "alice",
        "created_at": "2026-11-27T09:00:00Z",
        "repositories": [repository_json()],
    }
    document.update(extra)
    return document


def image_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": IMAGE_A,
        "reference": "127.0.0.1:5000/team/app:1.0",
        "registry": "local",
        "repository": "team/app",
        "tag": "1.0",
        "digest": DIGEST,
        "os": {"id": "alpine", "version": "3.19.1", "pretty": "Alpine Linux v3.19"},
        "layers": [LAYER, "sha256:" + "2" * 64],
        "notes": [],
        "first_seen_at": "2026-11-27T10:00:00Z",
        "scanned_at": "2026-11-28T11:00:00Z",
        "error": "",
        "packages": 15,
        "open": {"CRITICAL": 1, "HIGH": 2},
        "fixable": 2,
    }
    document.update(extra)
    return document


def image_package_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "ecosystem": "Alpine:v3.19",
        "name": "libcrypto3",
        "version": "3.1.4-r5",
        "source_name": "openssl",
        "layer": LAYER,
        "location": "lib/apk/db/installed",
    }
    document.update(extra)
    return document


def image_finding_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "image_id": IMAGE_A,
        "reference": "127.0.0.1:5000/team/app:1.0",
        "ecosystem": "Alpine:v3.19",
        "package": "libcrypto3",
        "version": "3.1.4-r5",
        "layer": LAYER,
        "vulnerability_id": "CVE-2024-0727",
        "aliases": [],
        "severity": "MEDIUM",
        "fixed_versions": ["3.1.4-r6"],
        "summary": "PKCS12 NULL dereference",
        "status": "open",
        "first_seen_at": "2026-11-27T10:00:00Z",
        "last_seen_at": "2026-11-28T11:00:00Z",
        "fixed_at": None,
    }
    document.update(extra)
    return document


def scan_json(**extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "registry": "local",
        "repository": "team/app",
        "tags": 3,
        "scanned": 1,
        "unchanged": 2,
        "removed": 1,
        "failed": 0,
        "errors": [],
    }
    document.update(extra)
    return document


def sample_registries() -> list[Registry]:
    return [
        Registry.from_json(registry_json()),
        Registry.from_json(
            registry_json(name="hub\x1b[31m", host="registry.example.org", insecure=False, repositories=[])
        ),
    ]


def sample_images() -> list[Image]:
    return [
        Image.from_json(image_json()),
        Image.from_json(
            image_json(
                id=IMAGE_EVIL,
                reference="127.0.0.1:5000/team/app:evil\x1b[2J",
                tag="evil\x1b[2J",
                os={"id": "", "version": "", "pretty": ""},
                scanned_at=None,
                error="manifest unknown\x1b]0;pwned\x07",
                packages=0,
                open={},
                fixable=0,
            )
        ),
    ]


def sample_image_packages() -> list[ImagePackage]:
    return [
        ImagePackage.from_json(image_package_json()),
        ImagePackage.from_json(
            image_package_json(
                ecosystem="PyPI",
                name="requests",
                version="2.31.0",
                source_name=None,
                layer="sha256:" + "2" * 64,
                location="usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            )
        ),
    ]


def sample_image_findings() -> list[ImageFinding]:
    return [
        ImageFinding.from_json(image_finding_json()),
        ImageFinding.from_json(
            image_finding_json(
                vulnerability_id="CVE-2024-5535", severity="CRITICAL", fixed_versions=[], summary="overread"
            )
        ),
        ImageFinding.from_json(
            image_finding_json(
                image_id=IMAGE_EVIL,
                reference="127.0.0.1:5000/team/app:evil\x1b[2J",
                package='=HYPERLINK("http://x")',
                severity="HIGH",
            )
        ),
    ]
