"""Access sessions across network namespaces: server, agent and client each in their own.

Every process (server, agent, CLI, the forward's target and the test's own probes) runs inside a
namespace with `ip netns exec`. The agent's namespace never holds a listening socket. Faults are
real: the veth between server and agent is taken down for 10 s in the middle of a command's output,
and the agent is killed during a session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.accounts import os_accounts
from integration import netns
from integration.fleet import (
    ADMIN,
    ADMIN_PASSWORD,
    AgentProcess,
    Server,
    rampart_command,
    wait_for,
)
from integration.sessions import Terminal
from rampart.pki.pem import fingerprint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"),
]
PORT = 8443
HOST = "ns-web-1"
GRACE = 40
FORWARD_BYTES = 256 * 1024 * 1024


@dataclass
class NsFleet:
    topology: netns.Topology
    server: Server
    agent: AgentProcess
    config: Path
    login: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "RAMPART_CONFIG": str(self.config), "RAMPART_PASSWORD": ADMIN_PASSWORD}

    def cli(self, *args: str, stdin: bytes = b"", timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            rampart_command(*args, netns=self.topology.client),
            input=stdin,
            capture_output=True,
            env=self.env(),
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self.cli(*args, "--format", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.json("session", "list", "--all"))

    def ended(self, session_id: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            found = [s for s in self.sessions() if s["id"] == session_id and not s["active"]]
            return found[0] if found else None

        return dict(wait_for(check, f"session {session_id} to end", timeout=GRACE + 60))

    def veth_to_agent(self) -> str:
        done = subprocess.run(
            ["ip", "-n", self.topology.server, "-o", "link", "show"],
            capture_output=True,
            text=True,
            check=True,
        )
        names = [line.split(":")[1].strip().split("@")[0] for line in done.stdout.splitlines()]
        return next(name for name in names if name.endswith("as"))


@pytest.fixture(scope="module")
def login() -> Iterator[str]:
    with os_accounts(["/bin/bash"]) as names:
        yield names[0]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, login: str) -> Iterator[NsFleet]:
    base = tmp_path_factory.mktemp("ns-sessions")
    topology = netns.create()
    options = ("--session-user", login, "--session-grace", str(GRACE), "--link-keepalive", "1")
    extra = (*options, "--link-dead-after", "3", "--tls-name", topology.server_for_agent)
    server = Server(
        base / "server",
        "0.0.0.0",
        PORT,
        netns=topology.server,
        extra=(*extra, "--tls-name", topology.server_for_client),
    )
    agent = AgentProcess(base / "agent", Path("/"), netns=topology.agent)
    try:
        yield _start(topology, server, agent, base / "client.json", login)
    finally:
        agent.stop()
        server.stop()
        topology.delete()


def _start(
    topology: netns.Topology, server: Server, agent: AgentProcess, config: Path, login: str
) -> NsFleet:
    server.init()
    server.start()
    fleet = NsFleet(topology, server, agent, config, login)
    url = f"https://{topology.server_for_client}:{PORT}"
    wait_for(lambda: _login(fleet, url), "the server in its namespace")
    join = fleet.json("server", "token", "create", "--tags", "env=test", "--expires", "1h")
    agent.enroll(f"https://{topology.server_for_agent}:{PORT}", join["token"], HOST)
    agent.start()
    wait_for(lambda: [h for h in fleet.json("hosts", "list") if h["status"] == "online"], "the agent's link")
    return fleet


def _login(fleet: NsFleet, url: str) -> bool:
    done = fleet.cli(
        "login", "--server", url, "--user", ADMIN, "--ca-sha256", fingerprint(fleet.server.ca_pem)
    )
    return done.returncode == 0


def in_namespace(namespace: str, code: str, **options: Any) -> subprocess.Popen[bytes]:
    """A Python snippet run inside ``namespace``."""
    return subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", code], **options)


SINK = """
import hashlib, socket, sys
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
while True:  # one connection after another (the readiness probe is one too)
    conn, _ = server.accept()
    digest, size = hashlib.sha256(), 0
    while chunk := conn.recv(1 << 20):
        digest.update(chunk); size += len(chunk)
    conn.sendall(f"{size} {digest.hexdigest()}".encode())
    conn.close()
"""

SOURCE = """
import hashlib, socket, sys
port, total = int(sys.argv[1]), int(sys.argv[2])
block = bytes(range(256)) * 4096
digest = hashlib.sha256()
with socket.create_connection(("127.0.0.1", port), timeout=120) as conn:
    sent = 0
    while sent < total:
        piece = block[: min(len(block), total - sent)]
        conn.sendall(piece); digest.update(piece); sent += len(piece)
    conn.shutdown(socket.SHUT_WR)
    answer = b""
    while chunk := conn.recv(4096):
        answer += chunk
print(sent, digest.hexdigest(), answer.decode(), flush=True)
"""


def test_sessions_work_across_namespaces_and_the_agent_listens_nowhere(
    fleet: NsFleet, tmp_path: Path
) -> None:
    done = fleet.cli("session", "exec", HOST, "--", "id -un; exit 3")
    assert done.returncode == 3 and done.stdout == f"{fleet.login}\n".encode(), done.stderr
    assert netns.listening_tcp(fleet.topology.agent) == []
    terminal = Terminal(
        rampart_command("session", "start", HOST, netns=fleet.topology.client), fleet.env(), rows=31, cols=97
    )
    try:
        terminal.expect(r"\$ ")
        terminal.type("stty size\r")
        terminal.expect("31 97")
        terminal.resize(45, 132)
        terminal.expect_after(lambda: terminal.type("stty size\r"), "45 132")
        assert netns.listening_tcp(fleet.topology.agent) == []
        terminal.type("exit 0\r")
        assert terminal.wait() == 0
    finally:
        terminal.close()


def test_rsync_over_exec_across_namespaces(fleet: NsFleet, tmp_path: Path) -> None:
    source = tmp_path / "tree"
    source.mkdir()
    for index in range(10):
        (source / f"f{index}").write_bytes(os.urandom(50_000 + index))
    target = f"/home/{fleet.login}/ns-rsync"
    command = [
        "rsync",
        "-a",
        "-e",
        " ".join(rampart_command("session", "exec")),
        f"{source}/",
        f"{HOST}:{target}/",
    ]
    done = subprocess.run(
        ["ip", "netns", "exec", fleet.topology.client, *command],
        env=fleet.env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in Path(target).iterdir()) == sorted(p.name for p in source.iterdir())
    assert all(Path(target, p.name).read_bytes() == p.read_bytes() for p in source.iterdir())


def test_a_256_mib_forward_arrives_with_the_same_sha256(fleet: NsFleet) -> None:
    sink = in_namespace(fleet.topology.agent, SINK, stdout=subprocess.PIPE)
    assert sink.stdout is not None
    target_port = int(sink.stdout.readline())
    local_port = 40000 + os.getpid() % 20000
    forward = subprocess.Popen(
        rampart_command(
            "session", "forward", HOST, f"{local_port}:127.0.0.1:{target_port}", netns=fleet.topology.client
        ),
        env=fleet.env(),
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: _port_open(fleet.topology.client, local_port), "the forward's local port")
        arguments = [sys.executable, "-c", SOURCE, str(local_port), str(FORWARD_BYTES)]
        source = subprocess.run(
            ["ip", "netns", "exec", fleet.topology.client, *arguments],
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert source.returncode == 0, source.stderr
        sent, digest, received, received_digest = source.stdout.decode().split()
        assert int(sent) == int(received) == FORWARD_BYTES and digest == received_digest
        # the only listener in the agent's namespace is the test's own target, never the agent
        assert all(f":{target_port} " in line for line in netns.listening_tcp(fleet.topology.agent))
    finally:
        forward.send_signal(signal.SIGINT)
        forward.communicate(timeout=30)
        sink.kill()
        sink.communicate(timeout=10)
    session = fleet.ended(fleet.sessions()[0]["id"])
    assert session["kind"] == "forward"


def _port_open(namespace: str, port: int) -> bool:
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2).close()"
    return in_namespace(namespace, probe, stderr=subprocess.DEVNULL).wait(10) == 0


def test_output_survives_the_agent_link_cut_for_10_s(fleet: NsFleet) -> None:
    veth = fleet.veth_to_agent()
    command = fleet.topology.client
    run = subprocess.Popen(
        rampart_command(
            "session", "exec", HOST, "--", "echo begin; sleep 2; seq 1 200000; echo end", netns=command
        ),
        env=fleet.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdout is not None
    assert run.stdout.readline() == b"begin\n"
    subprocess.run(["ip", "-n", fleet.topology.server, "link", "set", veth, "down"], check=True)
    try:
        time.sleep(10)  # the outage itself, not a wait for a result
    finally:
        subprocess.run(["ip", "-n", fleet.topology.server, "link", "set", veth, "up"], check=True)
    output, errors = run.communicate(timeout=GRACE + 120)
    expected = "".join(f"{n}\n" for n in range(1, 200001)) + "end\n"
    assert run.returncode == 0, errors
    assert hashlib.sha256(output).hexdigest() == hashlib.sha256(expected.encode()).hexdigest()
    session = fleet.sessions()[0]
    assert session["exit_code"] == 0
    played = fleet.cli("session", "play", session["id"], "--speed", "100000", "--max-idle", "0")
    assert played.returncode == 0, played.stderr
    assert played.stdout.replace(b"\r\n", b"\n") == b"begin\n" + expected.encode()
    assert fleet.cli("session", "verify", session["id"]).returncode == 0


def test_output_survives_the_client_connection_being_killed(fleet: NsFleet) -> None:
    script = "echo begin; sleep 1; seq 1 100000; sleep 3; seq 100001 200000; sleep 3; echo end"
    run = subprocess.Popen(
        rampart_command("session", "exec", HOST, "--", script, netns=fleet.topology.client),
        env=fleet.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdout is not None and run.stdout.readline() == b"begin\n"
    chunks: list[bytes] = []  # read all along, so the CLI is never held up by a full pipe
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: run.stdout.read1(65536), b"")))
    reader.start()
    kill = ["ip", "netns", "exec", fleet.topology.client, "ss", "-K", "dst", fleet.topology.server_for_client]
    killed = []
    for pause in (1.5, 3.0):  # abort the client's TCP connection to the server twice, mid-output
        time.sleep(pause)  # lets output flow between the two cuts; nothing is asserted on timing
        wait_for(lambda: _connected_to_server(fleet), "the client's (re)connection")
        done = subprocess.run([*kill, "dport", "=", f":{PORT}"], check=True, capture_output=True, text=True)
        killed += [line for line in done.stdout.splitlines() if "ESTAB" in line]
    run.wait(timeout=GRACE + 60)
    reader.join(30)
    assert run.stderr is not None
    output, errors = b"".join(chunks), run.stderr.read()
    run.stdout.close()
    run.stderr.close()
    assert len(killed) >= 2  # each cut really aborted a live connection
    expected = "".join(f"{n}\n" for n in range(1, 200001)) + "end\n"
    assert run.returncode == 0, errors
    assert hashlib.sha256(output).hexdigest() == hashlib.sha256(expected.encode()).hexdigest()


def _connected_to_server(fleet: NsFleet) -> bool:
    done = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            fleet.topology.client,
            "ss",
            "-tnH",
            "state",
            "established",
            "dport",
            "=",
            f":{PORT}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return bool(done.stdout.strip())


def test_a_killed_agent_ends_the_session_with_the_reason_recorded(fleet: NsFleet) -> None:
    marker = f"{600 + os.getpid() % 1000}.{int(time.time()) % 1000}"
    run = subprocess.Popen(
        rampart_command(
            "session", "exec", HOST, "--", f"echo started; sleep {marker}", netns=fleet.topology.client
        ),
        env=fleet.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert run.stdout is not None and run.stdout.readline() == b"started\n"
        assert fleet.agent.process is not None
        os.killpg(fleet.agent.process.pid, signal.SIGKILL)
        fleet.agent.process.wait(10)
        _, errors = run.communicate(timeout=GRACE + 120)
    finally:
        subprocess.run(["pkill", "-f", f"sleep {marker}"], check=False)
        fleet.agent.start()
    assert run.returncode != 0 and b"link was lost" in errors
    session = fleet.sessions()[0]
    assert not session["active"] and "link was lost" in session["end_reason"]
    verified = fleet.cli("session", "verify", session["id"])
    assert verified.returncode == 0, verified.stderr + verified.stdout
