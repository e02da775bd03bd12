"""Real `rampart server` and `rampart agent` processes for end-to-end fleet tests.

Servers listen on a free loopback port (or inside a network namespace when `netns` is given) with
their own data directory; agents run against a fixture root filesystem with a short scan interval.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from rampart.pki.tlsconfig import client_context

ADMIN = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
WAIT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def netns_prefix(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


def rampart_command(*args: str | Path, netns: str | None = None) -> list[str]:
    return [*netns_prefix(netns), sys.executable, "-m", "rampart", *map(str, args)]


def run_rampart(
    *args: str | Path, netns: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        rampart_command(*args, netns=netns),
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT, interval: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail the test naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class Server:
    """One server process and how to reach it."""

    data_dir: Path
    host: str
    port: int
    database_url: str | None = None
    netns: str | None = None
    extra: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> str:
        return (self.data_dir / "pki" / "ca.crt").read_text()

    def options(self) -> list[str]:
        db = ["--database-url", self.database_url] if self.database_url else []
        return [
            "server",
            "--data-dir",
            str(self.data_dir),
            *db,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--tls-name",
            self.host,
            *self.extra,
        ]

    def init(self) -> None:
        done = run_rampart(
            *self.options(),
            "init",
            "--admin",
            ADMIN,
            netns=self.netns,
            env={"RAMPART_ADMIN_PASSWORD": ADMIN_PASSWORD},
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                rampart_command(*self.options(), netns=self.netns),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.netns is None:
            wait_for(self.healthy, f"server on {self.url}")

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
        try:
            return (
                httpx.get(self.url + "/healthz", verify=client_context(self.ca_pem), timeout=2).status_code
                == 200
            )
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.url + "/api/v1", verify=client_context(self.ca_pem), headers=headers, timeout=30
        )

    def login(self, user: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
        with self.client() as client:
            answer = client.post("/auth/login", json={"username": user, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def join_token(self, admin_token: str, tags: dict[str, str] | None = None) -> str:
        with self.client(admin_token) as client:
            answer = client.post("/join-tokens", json={"tags": tags or {}, "expires_in": 3600})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])


@dataclass
class AgentProcess:
    """One enrolled agent and its daemon process."""

    state_dir: Path
    root: Path
    netns: str | None = None
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.state_dir.parent / f"{self.state_dir.name}-agent.log"

    def enroll(self, server_url: str, token: str, hostname: str) -> str:
        done = run_rampart(
            "agent",
            "enroll",
            "--server",
            server_url,
            "--token",
            token,
            "--state-dir",
            self.state_dir,
            "--hostname",
            hostname,
            netns=self.netns,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()[2].rstrip(";")

    def start(
        self, scan_interval_minutes: int = 600, fim: tuple[Path, Path] | None = None, fim_watch: bool = True
    ) -> None:
        """Run the daemon; ``fim`` = (baseline, verify key) turns on its file integrity checks (and its
        real-time watch unless ``fim_watch`` is False)."""
        args = [
            "agent",
            "run",
            "--state-dir",
            str(self.state_dir),
            "--root",
            str(self.root),
            "--scan-interval",
            str(scan_interval_minutes),
        ]
        args += ["--harden-interval", "0"]  # hardening runs only where a test asks for them
        if fim is None:
            args += ["--fim-interval", "0"]
        else:
            args += ["--fim-baseline", str(fim[0]), "--fim-verify-key", str(fim[1])]
            args += [] if fim_watch else ["--no-fim-watch"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                rampart_command(*args, netns=self.netns),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
