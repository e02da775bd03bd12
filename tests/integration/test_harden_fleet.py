"""Hardening across the fleet, end to end: a real server, a real agent running a shipped profile over its root.

The agent runs the profile on start (its schedule) and whenever an operator asks; each run reaches the server
as a run with a score, its rules' statuses and, once a rule changes, the transition; a request naming a
profile the agent does not ship comes back as a failed run with the reason, and leaves the score alone.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.fleet import AgentProcess, Server, free_port, rampart_command, wait_for

pytestmark = pytest.mark.slow
PROFILE = "ssh-server"  # a shipped profile whose rules judge a small root: sshd_config and the dpkg status


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    instance = Server(tmp_path / "server", "127.0.0.1", free_port(), database_url)
    instance.init()
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root filesystem with openssh-server installed and an sshd_config that lets root log in."""
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "etc" / "ssh" / "sshd_config").write_text("PermitRootLogin yes\nMaxAuthTries 10\n")
    (root / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\nArchitecture: amd64\n\n"
    )
    return root


def start_agent(agent: AgentProcess) -> None:
    """Run the daemon with hardening every 10 hours (so: once at start) and no file integrity checks."""
    args = ["agent", "run", "--state-dir", str(agent.state_dir), "--root", str(agent.root)]
    args += ["--scan-interval", "600", "--fim-interval", "0", "--no-fim-watch"]
    args += ["--harden-interval", "600", "--harden-profile", PROFILE]
    with agent.log.open("ab") as log:
        agent.process = subprocess.Popen(
            rampart_command(*args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def test_agent_runs_reach_the_server_with_scores_rules_and_transitions(
    server: Server, tmp_path: Path, root: Path
) -> None:
    admin = server.login()
    agent = AgentProcess(tmp_path / "agent", root)
    try:
        host_id = agent.enroll(server.url, server.join_token(admin), "web-1")
        start_agent(agent)
        with server.client(admin) as api:
            first = wait_for(lambda: _runs(api, 1), "the agent's scheduled run")[0]
            assert (first["profile"], first["job_id"], first["error"], first["target_kind"]) == (
                PROFILE,
                None,
                None,
                "rootfs",
            )
            assert first["failed"] > 0 and first["passed"] > 0 and 0 < first["score"] < 100
            results = {r["rule"]: r for r in _get(api, "/harden/hosts/web-1/results")}
            assert results["ssh.no-root-login"]["status"] == "fail"
            assert "PermitRootLogin yes" in " ".join(results["ssh.no-root-login"]["evidence"])
            failing = {r["rule"]: r for r in _get(api, "/harden/rules", status="fail")}
            assert failing["ssh.no-root-login"]["hosts"] == 1 and failing["ssh.no-root-login"][
                "hostnames"
            ] == ["web-1"]

            (root / "etc" / "ssh" / "sshd_config").write_text("PermitRootLogin no\nMaxAuthTries 4\n")
            job_id = _request(api, {"profile": PROFILE})
            second = wait_for(lambda: _runs(api, 2), "the requested run")[0]
            assert second["job_id"] == job_id and second["score"] > first["score"]
            changed = {r["rule"]: r for r in _get(api, "/harden/hosts/web-1/results", changed="true")}
            assert (
                changed["ssh.no-root-login"]["previous_status"],
                changed["ssh.no-root-login"]["status"],
            ) == (
                "fail",
                "pass",
            )
            assert "ssh.no-root-login" not in {r["rule"] for r in _get(api, "/harden/rules")}

            _request(api, {"profile": "no-such-profile"})
            failed = wait_for(lambda: _runs(api, 3), "the failed run")[0]
            assert failed["profile"] == "no-such-profile" and "no-such-profile" in failed["error"]
            (listed,) = [h for h in _get(api, "/harden/hosts") if h["profile"] == PROFILE]
            assert listed["host_id"] == host_id and listed["run"]["score"] == second["score"]
    finally:
        agent.stop()
    assert "Traceback" not in agent.log.read_text()


def _get(api: Any, path: str, **params: str) -> Any:
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _runs(api: Any, count: int) -> list[dict[str, Any]] | None:
    page = _get(api, "/harden/hosts/web-1/runs")
    return page["items"] if page["total"] >= count else None


def _request(api: Any, body: dict[str, str]) -> str:
    answer = api.post("/harden/hosts/web-1/request", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["job_id"])
