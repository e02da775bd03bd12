"""Access sessions end to end on loopback: real server and agent processes, the real CLI.

Commands with exit codes and 8-bit clean streams, RunAs from tags and the default (root refused),
rsync over `session exec`, copies both ways with checksums, port forwarding with many connections,
a shell in a real terminal (size and resize), observers, termination, recordings that verify and a
tampered one that does not, and fail-closed recording.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.accounts import os_accounts
from fixtures.s3 import s3_server
from integration.fleet import ADMIN, AgentProcess, Server, free_port, rampart_command, run_rampart, wait_for
from integration.sessions import PASSWORD, SessionFleet, Terminal, start_fleet

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="sessions run as other OS users"),
]
HOST = "sess-1"


@pytest.fixture(scope="module")
def accounts() -> Iterator[list[str]]:
    with os_accounts(["/bin/bash", "/bin/bash"]) as names:
        yield names


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, accounts: list[str]) -> Iterator[SessionFleet]:
    base = tmp_path_factory.mktemp("sessions")
    extra = ("--session-user", accounts[0], "--session-grace", "20")
    server = Server(base / "server", "127.0.0.1", free_port(), extra=extra)
    agent = AgentProcess(base / "agent", Path("/"))
    try:
        fleet = start_fleet(base, server, agent, HOST)
        fleet.add_user("alice", ["operator"], {})
        fleet.add_user("bob", ["operator"], {"runas": accounts[1]})
        fleet.add_user("rooty", ["operator"], {"runas": "root"})
        fleet.add_user("carol", ["auditor"], {})
        yield fleet
    finally:
        agent.stop()
        server.stop()


def test_exec_is_8_bit_clean_with_separate_stderr_and_the_exit_code(fleet: SessionFleet) -> None:
    payload = bytes(range(256)) * 4096
    done = fleet.rampart(
        "alice", "session", "exec", HOST, "--", "cat; echo to-stderr >&2; exit 5", stdin=payload
    )
    assert done.returncode == 5, done.stderr
    assert done.stdout == payload
    assert done.stderr.endswith(b"to-stderr\n")


def test_runas_comes_from_the_tag_or_the_default_and_root_is_refused(
    fleet: SessionFleet, accounts: list[str]
) -> None:
    for user, login in (("alice", accounts[0]), ("bob", accounts[1])):
        done = fleet.rampart(user, "session", "exec", HOST, "--", "id -un; echo $HOME; echo $USER")
        assert done.stdout.decode().split() == [login, f"/home/{login}", login], done.stderr
    refused = fleet.rampart("rooty", "session", "exec", HOST, "--", "id -u")
    assert refused.returncode != 0 and b"session.root" in refused.stderr
    denies = [e for e in fleet.audit() if e["action"] == "session.deny" and e["actor"] == "rooty"]
    assert denies and denies[-1]["details"]["action"] == "session.root"
    auditor = fleet.rampart("carol", "session", "exec", HOST, "--", "true")
    assert auditor.returncode != 0 and b"not allow" in auditor.stderr


def test_rsync_runs_over_session_exec(fleet: SessionFleet, accounts: list[str], tmp_path: Path) -> None:
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    for index in range(20):
        (source / "sub" / f"f{index}.bin").write_bytes(os.urandom(1000 * index + 1))
    target = f"/home/{accounts[0]}/rsynced"
    done = subprocess.run(
        [
            "rsync",
            "-a",
            "-e",
            " ".join(rampart_command("session", "exec")),
            f"{source}/",
            f"{HOST}:{target}/",
        ],
        env=fleet.env("alice"),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for path in (source / "sub").iterdir():
        assert Path(target, "sub", path.name).read_bytes() == path.read_bytes()
    assert Path(target).stat().st_uid != 0  # written as the RunAs user, not as the agent


def test_git_pushes_and_clones_over_session_exec(fleet: SessionFleet, tmp_path: Path) -> None:
    init = fleet.rampart("alice", "session", "exec", HOST, "--", "git init -q --bare -b main ~/repo.git")
    assert init.returncode == 0, init.stderr
    work = tmp_path / "work"
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "init.defaultBranch=main"]
    env = {**fleet.env("alice"), "GIT_SSH_COMMAND": " ".join(rampart_command("session", "exec"))}
    for argv in (
        ["init", "-q", str(work)],
        ["-C", str(work), "commit", "-q", "--allow-empty", "-m", "first"],
    ):
        subprocess.run([*git, *argv], check=True, env=env, timeout=60)
    for argv in (
        ["-C", str(work), "push", "-q", f"{HOST}:repo.git", "main"],
        ["clone", "-q", f"{HOST}:repo.git", str(tmp_path / "clone")],
    ):
        done = subprocess.run([*git, *argv], capture_output=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    log = subprocess.run(
        ["git", "-C", str(tmp_path / "clone"), "log", "--format=%s"], capture_output=True, check=True
    )
    assert log.stdout == b"first\n"


def test_copies_both_ways_with_matching_checksums(
    fleet: SessionFleet, accounts: list[str], tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    local, back = tmp_path / "up.bin", tmp_path / "down.bin"
    local.write_bytes(data)
    remote = f"/home/{accounts[0]}/copied.bin"
    up = fleet.rampart("alice", "session", "cp", str(local), f"{HOST}:{remote}")
    assert up.returncode == 0, up.stderr
    down = fleet.rampart("alice", "session", "cp", f"{HOST}:{remote}", str(back))
    assert down.returncode == 0, down.stderr
    digest = hashlib.sha256(data).hexdigest()
    assert back.read_bytes() == data and digest.encode() in up.stderr + up.stdout
    missing = fleet.rampart("alice", "session", "cp", f"{HOST}:/nonexistent/file", str(tmp_path / "x"))
    assert missing.returncode == 1 and not (tmp_path / "x").exists()


class EchoServer:
    """A TCP echo server on loopback, one thread per connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)


def _round_trip(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        sender = threading.Thread(target=lambda: (conn.sendall(data), conn.shutdown(socket.SHUT_WR)))
        sender.start()
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
        sender.join()
    return bytes(received)


def test_forward_carries_many_connections_at_once(fleet: SessionFleet) -> None:
    echo = EchoServer()
    local_port = free_port()
    forward = fleet.popen(
        "alice", "session", "forward", HOST, f"{local_port}:127.0.0.1:{echo.port}", stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: _connectable(local_port), "the local forward port")
        payloads = [os.urandom(512 * 1024 + n) for n in range(8)]
        results: list[bytes] = [b""] * len(payloads)
        threads = [
            threading.Thread(target=lambda i=i: results.__setitem__(i, _round_trip(local_port, payloads[i])))
            for i in range(len(payloads))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert results == payloads
    finally:
        forward.terminate()
        forward.communicate(timeout=30)
        echo.sock.close()
    session = fleet.ended(fleet.latest("alice")["id"])
    assert session["kind"] == "forward" and session["target"] == f"127.0.0.1:{echo.port}"


def _connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_a_shell_gets_the_terminal_size_resizes_and_exit_code(
    fleet: SessionFleet, accounts: list[str]
) -> None:
    terminal = Terminal(rampart_command("session", "start", HOST), fleet.env("alice"), rows=33, cols=101)
    try:
        terminal.type("stty size; echo sh-$((40+2))\r")
        terminal.expect(r"33 101\r?\n.*sh-42")
        terminal.resize(40, 120)
        terminal.expect_after(lambda: terminal.type("stty size\r"), "40 120")
        terminal.type("exit 4\r")
        assert terminal.wait() == 4
    finally:
        terminal.close()
    session = fleet.ended(fleet.latest("alice")["id"])
    assert session["exit_code"] == 4 and session["login"] == accounts[0]


def test_observers_see_the_shell_cannot_type_and_termination_ends_it(fleet: SessionFleet) -> None:
    terminal = Terminal(rampart_command("session", "start", HOST), fleet.env("alice"))
    observer = None
    try:
        terminal.type("echo ready-$((1+1))\r")
        terminal.expect("ready-2")
        session_id = fleet.latest("alice")["id"]
        observer = Terminal(rampart_command("session", "join", session_id), fleet.env(ADMIN))
        observer.expect("ready-2")  # what the shell showed before the observer joined
        terminal.type("echo seen-by-$((2*3))\r")
        observer.expect("seen-by-6")
        observer.type("echo typed-by-observer-$((3*3))\r")
        terminal.type("echo after\r")
        terminal.expect("after\r\n")
        assert b"typed-by-observer-9" not in terminal.output
        listed = json.loads(fleet.rampart(ADMIN, "session", "list").stdout)
        assert any(s["id"] == session_id and s["active"] for s in listed)
        killed = fleet.rampart(ADMIN, "session", "terminate", session_id)
        assert killed.returncode == 0, killed.stderr
        assert terminal.wait() != 0
        terminal.expect(r"session ended: terminated by admin")
    finally:
        terminal.close()
        if observer is not None:
            observer.close()
    actions = [e["action"] for e in fleet.audit() if e["target"] == f"session:{session_id}"]
    assert {"session.start", "session.join", "session.terminate", "session.end"} <= set(actions)


def test_shell_recording_verifies_replays_and_a_changed_byte_is_caught(fleet: SessionFleet) -> None:
    terminal = Terminal(rampart_command("session", "start", HOST), fleet.env("alice"))
    try:
        terminal.type(
            "stty -echo; printf 'Pass''word: '; read secret; stty echo; echo; echo visible-$((5*5))\r"
        )
        terminal.expect("Password: ")
        terminal.type("hunter2-not-recorded\r")
        terminal.expect("visible-25")
        terminal.type("exit\r")
        terminal.wait()
    finally:
        terminal.close()
    session_id = fleet.ended(fleet.latest("alice")["id"])["id"]
    verified = fleet.rampart(ADMIN, "session", "verify", session_id)
    assert verified.returncode == 0, verified.stderr
    recording = fleet.api(f"/sessions/{session_id}/recording")
    assert recording["verified"] and recording["end"]["reason"] == "exited with code 0"
    typed = "".join(data for _, code, data in recording["events"] if code == "i")
    assert "visible" in typed and "hunter2" not in typed
    played = fleet.rampart(ADMIN, "session", "play", session_id, "--speed", "1000")
    assert played.returncode == 0 and b"visible-25" in played.stdout
    segment = sorted(fleet.recording_dir(session_id).glob("seg-*.jsonl"))[0]
    content = bytearray(segment.read_bytes())
    content[len(content) // 2] ^= 0x01
    segment.write_bytes(bytes(content))
    tampered = fleet.rampart(ADMIN, "session", "verify", session_id)
    assert tampered.returncode != 0 and re.search(rb"segment|chain|hash", tampered.stderr + tampered.stdout)


def test_a_host_tagged_mfa_required_needs_a_totp_login(
    fleet: SessionFleet, accounts: list[str], tmp_path: Path
) -> None:
    agent = AgentProcess(tmp_path / "mfa-agent", Path("/"))
    try:
        host_id = agent.enroll(
            fleet.server.url, fleet.server.join_token(fleet.admin, {"mfa": "required"}), "mfa-1"
        )
        agent.start()
        wait_for(lambda: fleet.api(f"/hosts/{host_id}")["connected"], "the second agent's link")
        fleet.add_user("dave", ["operator"], {})
        refused = fleet.rampart("dave", "session", "exec", "mfa-1", "--", "true")
        assert refused.returncode != 0 and b"not allow" in refused.stderr
        deny = [e for e in fleet.audit() if e["action"] == "session.deny" and e["actor"] == "dave"][-1]
        assert "forbid.mfa-required-host" in deny["details"]["policies"]
        _enrol_totp(fleet, "dave")
        allowed = fleet.rampart("dave", "session", "exec", "mfa-1", "--", "id -un")
        assert allowed.returncode == 0 and allowed.stdout == f"{accounts[0]}\n".encode(), allowed.stderr
    finally:
        agent.stop()


def _enrol_totp(fleet: SessionFleet, user: str) -> None:
    """Enrol and confirm a TOTP factor for ``user``, then log in again with a code (a later time step)."""
    import pyotp

    token = json.loads(Path(fleet.configs[user]).read_text())["token"]
    with fleet.server.client(token) as client:
        secret = client.post(f"/users/{user}/totp").json()["secret"]
        code = pyotp.TOTP(secret).now()
        assert client.post(f"/users/{user}/totp/confirm", json={"code": code}).status_code == 204
    next_code = pyotp.TOTP(secret).at(int(time.time()) + 30)
    env = {**fleet.env(user), "RAMPART_PASSWORD": PASSWORD}
    ca = fleet.server.data_dir / "pki" / "ca.crt"
    done = subprocess.run(
        rampart_command(
            "login", "--server", fleet.server.url, "--user", user, "--ca", str(ca), "--totp", next_code
        ),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_idle_timeout_and_maximum_duration_end_sessions(tmp_path: Path, accounts: list[str]) -> None:
    options = ("--session-user", accounts[0], "--session-idle-timeout", "3", "--session-max-duration", "8")
    server = Server(tmp_path / "server", "127.0.0.1", free_port(), extra=options)
    agent = AgentProcess(tmp_path / "agent", Path("/"))
    try:
        fleet = start_fleet(tmp_path, server, agent, "lim-1")
        idle = fleet.rampart(ADMIN, "session", "exec", "lim-1", "--", "sleep 60")
        assert idle.returncode != 0 and b"idle for more than 3 s" in idle.stderr
        typing = fleet.popen(
            ADMIN,
            "session",
            "exec",
            "lim-1",
            "--",
            "cat >/dev/null; sleep 60",
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert typing.stdin is not None
        for _ in range(40):  # input keeps it from idling out; the maximum duration still ends it
            if typing.poll() is not None:
                break
            typing.stdin.write(b"k\n")
            typing.stdin.flush()
            time.sleep(0.5)
        _, errors = typing.communicate(timeout=30)
        assert b"maximum session duration of 8 s reached" in errors
    finally:
        agent.stop()
        server.stop()


def test_a_revoked_token_ends_its_running_session(fleet: SessionFleet) -> None:
    fleet.add_user("erin", ["operator"], {})
    running = fleet.popen("erin", "session", "exec", HOST, "--", "sleep 60", stderr=subprocess.PIPE)
    wait_for(lambda: any(s["user"] == "erin" and s["active"] for s in fleet.sessions()), "erin's session")
    assert fleet.rampart("erin", "logout").returncode == 0  # revokes the token the session runs on
    _, errors = running.communicate(timeout=60)
    assert b"access revoked: the token was revoked" in errors


def test_recordings_can_live_in_an_s3_compatible_store(tmp_path: Path, accounts: list[str]) -> None:
    import boto3

    with s3_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="recs")
        url = f"s3://recs/rampart?endpoint={endpoint}&region=us-east-1"
        server = Server(
            tmp_path / "server",
            "127.0.0.1",
            free_port(),
            extra=("--session-user", accounts[0], "--recordings", url),
        )
        agent = AgentProcess(tmp_path / "agent", Path("/"))
        try:
            fleet = start_fleet(tmp_path, server, agent, "s3-1")
            done = fleet.rampart(ADMIN, "session", "exec", "s3-1", "--", "echo kept-in-s3")
            assert done.returncode == 0, done.stderr
            session_id = fleet.ended(fleet.latest(ADMIN)["id"])["id"]
            recording = fleet.api(f"/sessions/{session_id}/recording")
            objects = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(
                Bucket="recs"
            )
        finally:
            agent.stop()
            server.stop()
    assert recording["verified"] and any("kept-in-s3" in str(event[2]) for event in recording["events"])
    keys = [item["Key"] for item in objects["Contents"]]
    assert f"rampart/sessions/{session_id}/end.json" in keys
    assert not (tmp_path / "server" / "recordings" / "sessions").exists()


ROOT_POLICY = """
@id("site.breakglass-root")
permit (principal, action == Action::"session.root", resource)
when { principal.hasTag("breakglass") && principal.getTag("breakglass") == "yes" };
"""


def test_root_needs_an_explicit_policy_from_the_policy_file(tmp_path: Path, accounts: list[str]) -> None:
    builtin = subprocess.run(
        rampart_command("server", "policies"), capture_output=True, text=True, check=True
    )
    policy = tmp_path / "site.cedar"
    policy.write_text(builtin.stdout + ROOT_POLICY)
    options = ("--session-user", accounts[0], "--policy-file", str(policy))
    server = Server(tmp_path / "server", "127.0.0.1", free_port(), extra=options)
    agent = AgentProcess(tmp_path / "agent", Path("/"))
    try:
        fleet = start_fleet(tmp_path, server, agent, "root-1")
        fleet.add_user("gail", ["operator"], {"runas": "root", "breakglass": "yes"})
        fleet.add_user("hank", ["operator"], {"runas": "root"})
        allowed = fleet.rampart("gail", "session", "exec", "root-1", "--", "id -u")
        refused = fleet.rampart("hank", "session", "exec", "root-1", "--", "id -u")
        start = [e for e in fleet.audit() if e["action"] == "session.start" and e["actor"] == "gail"][-1]
    finally:
        agent.stop()
        server.stop()
    assert allowed.returncode == 0 and allowed.stdout == b"0\n", allowed.stderr
    assert "site.breakglass-root" in start["details"]["policies"] and start["details"]["login"] == "root"
    assert refused.returncode != 0 and b"session.root" in refused.stderr


def test_a_malformed_policy_file_stops_the_server_with_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "bad.cedar"
    policy.write_text('permit (principal, action == Action::"no.such.action", resource);')
    done = run_rampart(
        "server",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(free_port()),
        "--policy-file",
        str(policy),
        timeout=60,
    )
    assert done.returncode != 0
    assert "bad.cedar" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_fail_closed_refuses_sessions_when_recordings_cannot_be_written(
    tmp_path: Path, accounts: list[str]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    extra = ("--session-user", accounts[0], "--recordings", str(store), "--recording-fail-closed")
    server = Server(tmp_path / "server", "127.0.0.1", free_port(), extra=extra)
    agent = AgentProcess(tmp_path / "agent", Path("/"))
    try:
        fleet = start_fleet(tmp_path, server, agent, "fc-1")
        assert fleet.rampart(ADMIN, "session", "exec", "fc-1", "--", "true").returncode == 0
        ticking = fleet.popen(
            ADMIN,
            "session",
            "exec",
            "fc-1",
            "--",
            "while :; do echo tick; sleep 0.2; done",
            stdout=subprocess.PIPE,
        )
        assert ticking.stdout is not None and ticking.stdout.readline() == b"tick\n"
        subprocess.run(["mount", "--bind", str(store), str(store)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(store)], check=True)
            ticking.communicate(timeout=60)  # a running session whose recording fails is ended
            refused = fleet.rampart(ADMIN, "session", "exec", "fc-1", "--", f"touch {tmp_path}/ran")
        finally:
            subprocess.run(["umount", str(store)], check=True)
        ended = next(s for s in fleet.sessions() if s["command"] and "tick" in s["command"])
        assert ended["end_reason"].startswith("recording failed")
        assert refused.returncode != 0 and b"recording" in refused.stderr
        assert not (tmp_path / "ran").exists()
        denies = [e for e in fleet.audit() if e["action"] == "session.deny"]
        assert denies and "recording" in denies[-1]["details"]["why"]
    finally:
        agent.stop()
        server.stop()
