"""Session test harness: a server and an agent with users whose CLI logins are ready, and a terminal.

`SessionFleet` runs `rampart session ...` as a chosen rampart user (each has its own client
config), reads sessions and audit events over the API, and `Terminal` drives the CLI in a real
pseudo-terminal so raw mode, the window size and resizes are exercised as a person would.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration.fleet import (
    ADMIN,
    ADMIN_PASSWORD,
    AgentProcess,
    Server,
    rampart_command,
    run_rampart,
    wait_for,
)

PASSWORD = "a long session passphrase"
WAIT = 60.0


@dataclass
class SessionFleet:
    """A running server, one enrolled online host, and rampart users with stored CLI logins."""

    server: Server
    agent: AgentProcess
    hostname: str
    host_id: str
    base: Path
    admin: str = ""
    netns: str | None = None
    server_url: str = ""
    configs: dict[str, Path] = field(default_factory=dict)

    def add_user(self, name: str, roles: list[str], tags: Mapping[str, str]) -> None:
        body = {"name": name, "password": PASSWORD, "roles": roles, "tags": dict(tags)}
        with self.server.client(self.admin) as client:
            answer = client.post("/users", json=body)
        assert answer.status_code == 201, answer.text
        self.log_in(name, PASSWORD)

    def log_in(self, name: str, password: str) -> None:
        config = self.base / f"client-{name}.json"
        ca = self.server.data_dir / "pki" / "ca.crt"
        env = {"RAMPART_CONFIG": str(config), "RAMPART_PASSWORD": password}
        url = self.server_url or self.server.url
        done = run_rampart("login", "--server", url, "--user", name, "--ca", ca, env=env, netns=self.netns)
        assert done.returncode == 0, done.stderr
        self.configs[name] = config

    def env(self, user: str) -> dict[str, str]:
        return {**os.environ, "RAMPART_CONFIG": str(self.configs[user])}

    def rampart(
        self, user: str, *args: str, stdin: bytes = b"", timeout: float = WAIT, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """``rampart ARGS`` as ``user``, bytes in and out."""
        return subprocess.run(
            rampart_command(*args, netns=self.netns),
            input=stdin,
            capture_output=True,
            env=self.env(user),
            timeout=timeout,
            check=False,
            cwd=cwd,
        )

    def popen(self, user: str, *args: str, **options: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(rampart_command(*args, netns=self.netns), env=self.env(user), **options)

    def api(self, path: str, token: str | None = None) -> Any:
        with self.server.client(token or self.admin) as client:
            answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.api("/sessions")["sessions"])

    def session(self, session_id: str) -> dict[str, Any]:
        return dict(self.api(f"/sessions/{session_id}"))

    def latest(self, user: str) -> dict[str, Any]:
        return next(s for s in self.sessions() if s["user"] == user)

    def ended(self, session_id: str) -> dict[str, Any]:
        """The session once it has ended (its recording is then closed)."""
        return dict(wait_for(lambda: _if_ended(self.session(session_id)), f"session {session_id} to end"))

    def audit(self) -> list[dict[str, Any]]:
        import json

        with self.server.client(self.admin) as client:
            answer = client.get("/audit")
        assert answer.status_code == 200
        return [json.loads(line) for line in answer.text.splitlines()]

    def recording_dir(self, session_id: str) -> Path:
        return self.server.data_dir / "recordings" / "sessions" / session_id


def _if_ended(info: dict[str, Any]) -> dict[str, Any] | None:
    return None if info["active"] else info


def start_fleet(
    base: Path, server: Server, agent: AgentProcess, hostname: str, **options: Any
) -> SessionFleet:
    """Start ``server``, enroll and start ``agent``, and log the admin in on the CLI."""
    server.init()
    server.start()
    admin = server.login(ADMIN, ADMIN_PASSWORD)
    url = options.get("server_url_for_agent", server.url)
    host_id = agent.enroll(url, server.join_token(admin, {"env": "test"}), hostname)
    agent.start()
    fleet = SessionFleet(server, agent, hostname, host_id, base, admin, options.get("client_netns"))
    fleet.server_url = options.get("server_url_for_client", "")
    wait_for(lambda: fleet.api(f"/hosts/{host_id}")["connected"], "the agent's link")
    fleet.log_in(ADMIN, ADMIN_PASSWORD)
    return fleet


class Terminal:
    """A command on a real pseudo-terminal of a given size; read its screen text, type, resize."""

    def __init__(self, argv: list[str], env: Mapping[str, str], rows: int = 24, cols: int = 80) -> None:
        master, slave = os.openpty()
        self.master = master
        self.resize(rows, cols)
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env),
            start_new_session=True,
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.output = b""

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, pattern: str, timeout: float = WAIT) -> re.Match[bytes]:
        """Read until ``pattern`` (a bytes regex) appears in everything read so far."""
        compiled = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while (match := compiled.search(self.output)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in terminal output: {self.output[-2000:]!r}")
            self._read(deadline - time.monotonic())
        return match

    def expect_after(self, action: Callable[[], None], pattern: str, tries: int = 10) -> re.Match[bytes]:
        """Repeat ``action`` until ``pattern`` shows up in what follows it (a resize reaches the client as
        SIGWINCH, which may be handled just after keys typed at the same instant)."""
        for _ in range(tries):
            start = len(self.output)
            action()
            with contextlib.suppress(AssertionError):
                self.expect(pattern, timeout=2)
                match = re.compile(pattern.encode()).search(self.output, start)
                if match is not None:
                    return match
        raise AssertionError(f"no {pattern!r} after {tries} tries: {self.output[-2000:]!r}")

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], max(0.0, min(timeout, 1.0)))
        if ready:
            try:
                self.output += os.read(self.master, 65536)
            except OSError:
                time.sleep(0.05)

    def wait(self, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        return self.process.wait(1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
