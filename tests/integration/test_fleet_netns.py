"""The fleet across network namespaces: server, agent and CLI each in their own, wired by veth.

Every process runs inside a namespace (`ip netns exec`); the agent's namespace holds no
listening socket at any time; the database is reached over its Unix socket.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fixtures import databases
from fixtures.rootfs import build_debian11_rootfs
from integration import netns
from integration.fleet import ADMIN, ADMIN_PASSWORD, AgentProcess, Server, run_rampart, wait_for
from rampart.pki.pem import fingerprint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"),
]
PORT = 8443


@pytest.fixture
def topology() -> Iterator[netns.Topology]:
    created = netns.create()
    yield created
    created.delete()


@pytest.fixture(params=databases.KINDS)
def namespace_database(
    request: pytest.FixtureRequest, topology: netns.Topology, tmp_path: Path
) -> Iterator[str | None]:
    """None for SQLite in the data directory, else a PostgreSQL server started inside the server's namespace."""
    if request.param == "sqlite":
        yield None
        return
    server = databases.PrivateServer.start(netns=topology.server)
    try:
        with psycopg.connect(server.socket_url, autocommit=True) as connection:
            connection.execute("CREATE DATABASE rampart")
        yield server.socket_url.replace("/postgres?", "/rampart?")
    finally:
        server.stop()


def _cli(topology: netns.Topology, config: Path, *args: str) -> Any:
    env = {"RAMPART_CONFIG": str(config), "RAMPART_PASSWORD": ADMIN_PASSWORD}
    done = run_rampart(*args, "--format", "json", netns=topology.client, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def _reachable(topology: netns.Topology, address: str) -> bool:
    probe = f"import socket; socket.create_connection(({address!r}, {PORT}), 2).close()"
    done = run_rampart_python(topology.client, probe)
    return done.returncode == 0


def run_rampart_python(namespace: str, code: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", code],
        capture_output=True,
        timeout=30,
        check=False,
    )


def test_agent_in_its_own_namespace_enrolls_reports_and_listens_nowhere(
    topology: netns.Topology, namespace_database: str | None, debian_advisories: Path, tmp_path: Path
) -> None:
    server = Server(
        tmp_path / "server",
        "0.0.0.0",
        PORT,
        namespace_database,
        netns=topology.server,
        extra=("--tls-name", topology.server_for_agent, "--tls-name", topology.server_for_client),
    )
    root = tmp_path / "rootfs"
    build_debian11_rootfs(root)
    agent = AgentProcess(tmp_path / "agent", root, netns=topology.agent)
    try:
        _run_fleet(topology, server, agent, debian_advisories, tmp_path / "client.json")
    finally:
        agent.stop()
        server.stop()


def _run_fleet(
    topology: netns.Topology, server: Server, agent: AgentProcess, advisories: Path, config: Path
) -> None:
    server.init()
    shutil.copy(advisories, server.data_dir / "advisories.sqlite3")
    server.start()
    wait_for(lambda: _reachable(topology, topology.server_for_client), "the server in its namespace")
    client_url = f"https://{topology.server_for_client}:{PORT}"
    _cli(
        topology,
        config,
        "login",
        "--server",
        client_url,
        "--user",
        ADMIN,
        "--ca-sha256",
        fingerprint(server.ca_pem),
    )
    join = _cli(
        topology, config, "server", "token", "create", "--tags", "env=prod,team=payments", "--expires", "1h"
    )
    host_id = agent.enroll(f"https://{topology.server_for_agent}:{PORT}", join["token"], "web-1")
    agent.start()
    hosts = wait_for(
        lambda: [h for h in _cli(topology, config, "hosts", "list") if h["packages"] > 0],
        "the agent's inventory",
    )
    assert hosts[0]["id"] == host_id and hosts[0]["status"] == "online"
    assert hosts[0]["tags"] == {"env": "prod", "team": "payments"}
    assert netns.listening_tcp(topology.agent) == []
    findings = _cli(topology, config, "findings", "list", "--package", "xserver-xorg-core")
    assert "CVE-2023-1393" in {f["vulnerability_id"] for f in _items(findings)}
    _cli(topology, config, "hosts", "revoke", host_id, "--yes")
    wait_for(lambda: not agent.running(), "the revoked agent to stop")
    assert netns.listening_tcp(topology.agent) == []


def _items(document: Any) -> list[dict[str, Any]]:
    return list(document["items"] if isinstance(document, dict) else document)


def test_namespaces_are_isolated_from_the_host(topology: netns.Topology) -> None:
    """A namespace reaches only its veth peer: not the host's loopback services."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2).close()"
        assert run_rampart_python(topology.agent, probe).returncode != 0
