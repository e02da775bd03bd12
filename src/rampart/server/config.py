"""The operator's server settings: data directory, database URL, listen address, TLS and timings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

DEFAULT_PORT = 8443


def default_data_dir() -> Path:
    """``$RAMPART_DATA_DIR``, else ``/var/lib/rampart`` for root, else ``~/.local/share/rampart-server``."""
    explicit = os.environ.get("RAMPART_DATA_DIR")
    if explicit:
        return Path(explicit)
    if os.geteuid() == 0:
        return Path("/var/lib/rampart")
    return Path.home() / ".local" / "share" / "rampart-server"


@dataclass(frozen=True)
class ServerConfig:
    """Everything `rampart server` needs; every field has a safe default."""

    data_dir: Path
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    tls_names: tuple[str, ...] = ("localhost", "127.0.0.1")
    advisory_db: Path | None = None
    agent_cert_lifetime: timedelta = timedelta(days=7)
    heartbeat_interval: float = 30.0
    stale_after: timedelta = timedelta(minutes=10)
    rematch_check_interval: float = 60.0
    scan_interval: float = 6 * 3600.0
    audit_file: Path | None = field(default=None)
    policy_file: Path | None = None
    recordings: str | None = None
    recording_fail_closed: bool = False
    session_default_login: str | None = None
    session_idle_timeout: float = 20 * 60.0
    session_max_duration: float = 12 * 3600.0
    session_grace: float = 120.0
    link_keepalive: float = 15.0
    link_dead_after: float = 45.0
    registry_auth: Path | None = None
    registry_interval: float = 3600.0

    @property
    def advisory_path(self) -> Path:
        """The advisory database the server matches inventories against."""
        return self.advisory_db or self.data_dir / "advisories.sqlite3"

    @property
    def audit_mirror(self) -> Path:
        """The JSON-lines file every audit event is mirrored to (for `audit verify` and SIEM followers)."""
        return self.audit_file or self.data_dir / "audit.jsonl"

    @property
    def recording_url(self) -> str:
        """Where session recordings go: a directory or an s3:// URL (default: the data directory's)."""
        return self.recordings or str(self.data_dir / "recordings")

    @property
    def recording_key_path(self) -> Path:
        """The Ed25519 key that signs the end of every recording."""
        return self.data_dir / "keys" / "recording-ed25519.pem"

    @property
    def base_url(self) -> str:
        """The URL agents and clients are told to use."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"
