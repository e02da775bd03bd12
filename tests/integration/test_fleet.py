"""The fleet end to end: real server and agent processes on loopback, on SQLite and on PostgreSQL.

Enrollment, a scan of a fixture root filesystem reported and matched, re-matching after an
advisory update without the agent, revocation cutting a live link, an agent catching up after the
server was down, a server killed during uploads (nothing lost, nothing doubled), and the audit log.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.rootfs import build_debian11_rootfs
from integration.fleet import ADMIN, ADMIN_PASSWORD, AgentProcess, Server, free_port, run_rampart, wait_for
from rampart.agent.spool import Spool
from rampart.fleet.inventory import build_inventory
from rampart.model import OsRelease, Package

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    instance = Server(
        tmp_path / "server", "127.0.0.1", free_port(), database_url, extra=("--rematch-check", "0.5")
    )
    instance.init()
    yield instance
    instance.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "rootfs"
    build_debian11_rootfs(path)
    return path


@pytest.fixture
def agent(tmp_path: Path, root: Path) -> Iterator[AgentProcess]:
    instance = AgentProcess(tmp_path / "agent", root)
    yield instance
    instance.stop()


def _get(server: Server, token: str, path: str, **params: Any) -> Any:
    with server.client(token) as client:
        answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _post(server: Server, token: str, path: str) -> Any:
    with server.client(token) as client:
        return client.post(path)


def _host(server: Server, token: str, host_id: str) -> dict[str, Any]:
    return dict(_get(server, token, f"/hosts/{host_id}"))


def _xorg(server: Server, token: str, status: str = "open") -> list[dict[str, Any]]:
    page = _get(server, token, "/findings", package="xserver-xorg-core", status=status)
    return [f for f in page["items"] if f["vulnerability_id"] == "CVE-2023-1393"]


def _enrolled(server: Server, agent: AgentProcess, hostname: str = "web-1") -> tuple[str, str]:
    admin = server.login()
    host_id = agent.enroll(
        server.url, server.join_token(admin, {"env": "prod", "team": "payments"}), hostname
    )
    return admin, host_id


def _audit_actions(server: Server, token: str) -> list[dict[str, Any]]:
    import json

    with server.client(token) as client:
        answer = client.get("/audit")
    assert answer.status_code == 200
    return [json.loads(line) for line in answer.text.splitlines()]


def test_enrolled_agent_reports_and_the_server_matches(
    server: Server, agent: AgentProcess, debian_advisories: Path
) -> None:
    shutil.copy(debian_advisories, server.data_dir / "advisories.sqlite3")
    server.start()
    admin, host_id = _enrolled(server, agent)
    agent.start()
    wait_for(lambda: _host(server, admin, host_id)["packages"] > 0, "the inventory")
    host = _host(server, admin, host_id)
    assert host["status"] == "online" and host["tags"] == {"env": "prod", "team": "payments"}
    assert host["os"]["id"] == "debian" and host["os"]["version"] == "11"
    finding = wait_for(lambda: _xorg(server, admin), "CVE-2023-1393")[0]
    assert finding["version"] == "2:1.20.11-1+deb11u5" and "2:1.20.11-1+deb11u6" in finding["fixed_versions"]
    actions = [e["action"] for e in _audit_actions(server, admin)]
    assert {"agent.enroll", "agent.connect", "agent.result", "jointoken.create"} <= set(actions)


def test_advisory_update_rematches_without_the_agent_and_upgrades_close(
    server: Server, agent: AgentProcess, root: Path, debian_advisories: Path
) -> None:
    server.start()
    admin, host_id = _enrolled(server, agent)
    agent.start()
    wait_for(lambda: _host(server, admin, host_id)["packages"] > 0, "the inventory")
    agent.stop()
    assert _xorg(server, admin) == []
    staged = server.data_dir / "advisories.sqlite3.new"
    shutil.copy(debian_advisories, staged)
    staged.replace(server.data_dir / "advisories.sqlite3")
    opened = wait_for(lambda: _xorg(server, admin), "the re-match to open CVE-2023-1393")[0]
    assert opened["status"] == "open" and opened["fixed_at"] is None
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("2:1.20.11-1+deb11u5", "2:1.20.11-1+deb11u6"))
    agent.start()
    wait_for(lambda: _host(server, admin, host_id)["connected"], "the agent to reconnect")
    assert _post(server, admin, f"/hosts/{host_id}/scan").status_code == 202
    fixed = wait_for(lambda: _xorg(server, admin, "fixed"), "the upgrade to close the finding")[0]
    assert fixed["fixed_at"] is not None and fixed["first_seen_at"] == opened["first_seen_at"]
    assert _xorg(server, admin) == []


def test_revocation_cuts_the_live_link_and_refuses_reconnects(server: Server, agent: AgentProcess) -> None:
    server.start()
    admin, host_id = _enrolled(server, agent)
    agent.start()
    wait_for(lambda: _host(server, admin, host_id)["connected"], "the link")
    answer = _post(server, admin, f"/hosts/{host_id}/revoke")
    assert answer.status_code == 200 and answer.json()["status"] == "revoked"
    assert not _host(server, admin, host_id)["connected"]
    wait_for(lambda: not agent.running(), "the revoked agent to stop")
    assert "revoked" in agent.log.read_text()
    retry = AgentProcess(agent.state_dir, agent.root)
    retry.start()
    wait_for(lambda: "agent.link.deny" in [e["action"] for e in _audit_actions(server, admin)], "a refusal")
    retry.stop()
    assert not _host(server, admin, host_id)["connected"]


def test_agent_offline_then_back_catches_up(server: Server, agent: AgentProcess) -> None:
    server.start()
    admin, host_id = _enrolled(server, agent)
    server.stop()
    agent.start()
    wait_for(lambda: "link to" in agent.log.read_text(), "the agent to notice the server is down")
    wait_for(lambda: _spool_items(agent) > 0, "the scan result to wait in the spool")
    server.start()
    wait_for(lambda: _host(server, admin, host_id)["packages"] > 0, "the spooled inventory")
    wait_for(lambda: _spool_items(agent) == 0, "the spool to drain")


def _spool_items(agent: AgentProcess) -> int:
    path = agent.state_dir / "spool.sqlite3"
    if not path.exists():
        return 0
    with Spool.open(path, 1 << 40, 1 << 30, time.time) as spool:
        return spool.stats().count


def _big_inventory(result_id: str, packages: int) -> bytes:
    rows = [
        Package(f"pkg-{n}", f"1.{n}-1", "Debian:11", "var/lib/dpkg/status", "dpkg") for n in range(packages)
    ]
    release = OsRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)")
    return build_inventory(rows, release, [], [], result_id, None, datetime.now(UTC))


def test_server_killed_during_uploads_loses_and_doubles_nothing(
    server: Server, agent: AgentProcess, database_url: str
) -> None:
    server.start()
    admin, host_id = _enrolled(server, agent)
    ids = [str(uuid.uuid4()) for _ in range(12)]
    with Spool.open(agent.state_dir / "spool.sqlite3", 1 << 32, 1000, time.time) as spool:
        for result_id in ids:
            spool.put("inventory", _big_inventory(result_id, 4000), item_id=result_id)
    agent.start(scan_interval_minutes=100_000)
    wait_for(lambda: len(_stored_results(database_url, host_id)) >= 2, "the first uploads", interval=0.02)
    server.kill()
    assert _spool_items(agent) > 0
    server.start()
    wait_for(lambda: _spool_items(agent) == 0, "the spool to drain after the restart", timeout=180)
    results = _stored_results(database_url, host_id)
    assert set(ids) <= set(results)
    assert len(set(results) - set(ids)) <= 1  # the agent's own first scan
    stored = [
        e["details"]["result"]
        for e in _audit_actions(server, admin)
        if e["action"] == "agent.result" and e["details"]["status"] == "stored"
    ]
    assert len(stored) == len(set(stored))


def _stored_results(database_url: str, host_id: str) -> list[str]:
    """Result ids the database holds for the host (read directly: the server may be down)."""
    from sqlalchemy import select

    from rampart.store.engine import make_engine
    from rampart.store.models import Result

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(Result.id).where(Result.host_id == host_id)))
    finally:
        engine.dispose()


def test_edited_audit_entry_is_found(
    server: Server, agent: AgentProcess, tmp_path: Path, database_url: str
) -> None:
    server.start()
    _enrolled(server, agent)
    server.stop()
    log = server.data_dir / "audit.jsonl"
    assert json.loads(run_rampart("audit", "verify", log).stdout)["ok"]
    lines = log.read_text().splitlines()
    lines[2] = lines[2].replace('"success"', '"failure"', 1)
    log.write_text("\n".join(lines) + "\n")
    broken = run_rampart("audit", "verify", log)
    assert broken.returncode == 1
    assert (json.loads(broken.stdout)["position"], json.loads(broken.stdout)["reason"]) == (3, "edited")
    _edit_stored_entry(database_url, seq=3)
    server.start()
    env = {"RAMPART_CONFIG": str(tmp_path / "client.json"), "RAMPART_PASSWORD": ADMIN_PASSWORD}
    login = run_rampart(
        "login", "--server", server.url, "--user", ADMIN, "--ca", server.data_dir / "pki/ca.crt", env=env
    )
    assert login.returncode == 0, login.stderr
    pulled = run_rampart("audit", "pull", env=env)
    assert pulled.returncode == 2 and "edited" in pulled.stderr and "3" in pulled.stderr


def _edit_stored_entry(database_url: str, seq: int) -> None:
    from sqlalchemy import update

    from rampart.store.engine import make_engine
    from rampart.store.models import AuditEventRow

    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(AuditEventRow).where(AuditEventRow.seq == seq).values(actor="mallory"))
    engine.dispose()


def test_agent_rotates_its_credentials_before_they_expire(
    tmp_path: Path, database_url: str, agent: AgentProcess
) -> None:
    server = Server(
        tmp_path / "short-lived",
        "127.0.0.1",
        free_port(),
        database_url,
        extra=("--agent-cert-lifetime", "30"),
    )
    server.init()
    server.start()
    try:
        admin, host_id = _enrolled(server, agent)
        first = (agent.state_dir / "identity.json").read_text()
        agent.start()
        wait_for(
            lambda: "agent.rotate" in [e["action"] for e in _audit_actions(server, admin)],
            "the rotation",
            timeout=60,
        )
        assert (agent.state_dir / "identity.json").read_text() != first
        time.sleep(12)  # the first certificate has now expired
        agent.stop()
        agent.start()
        wait_for(
            lambda: _host(server, admin, host_id)["connected"], "a reconnect with the rotated credentials"
        )
    finally:
        agent.stop()
        server.stop()


def test_enrollment_refuses_a_server_whose_ca_is_not_the_pinned_one(
    server: Server, agent: AgentProcess
) -> None:
    import base64

    server.start()
    token = server.join_token(server.login())
    claims = json.loads(base64.urlsafe_b64decode(token[4:] + "=" * (-len(token[4:]) % 4)))
    claims["ca"] = "sha256:" + "0" * 64
    forged = "rpj_" + base64.urlsafe_b64encode(
        json.dumps(claims, separators=(",", ":")).encode()
    ).decode().rstrip("=")
    done = run_rampart(
        "agent", "enroll", "--server", server.url, "--token", forged, "--state-dir", agent.state_dir
    )
    assert done.returncode == 2 and "pins" in done.stderr and "Traceback" not in done.stderr
    assert not (agent.state_dir / "identity.json").exists()


def test_the_server_speaks_tls_1_2_or_newer_only(server: Server) -> None:
    import socket
    import ssl
    import warnings

    server.start()
    for version, accepted in (
        (ssl.TLSVersion.TLSv1_1, False),
        (ssl.TLSVersion.TLSv1_2, True),
        (ssl.TLSVersion.TLSv1_3, True),
    ):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=server.ca_pem)
        context.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():  # asking for TLS 1.1 is deprecated, which is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = version
        with socket.create_connection((server.host, server.port), timeout=10) as raw:
            try:
                with context.wrap_socket(raw, server_hostname=server.host) as tls:
                    negotiated = tls.version()
            except (ssl.SSLError, OSError):
                negotiated = None
        assert (negotiated is not None) == accepted, (version, negotiated)
