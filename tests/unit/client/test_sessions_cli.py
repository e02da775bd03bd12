"""``rampart session`` through the real root app: the REST calls answered by httpx.MockTransport at the
client seam, the attach WebSocket served by a real wss server playing the server and the agent."""

from __future__ import annotations

import hashlib
import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rampart.cli.main import app
from rampart.cli.session_io import CopyFailed
from rampart.client.sessions import AttachRefused
from rampart.errors import UsageError
from unit.client.sessions_fake import (
    Behaviour,
    FakeRest,
    FakeSessionServer,
    download_source,
    echo_then_exit,
    logged_in,
    payload,
    upload_sink,
)

ALL_BYTES = bytes(range(256)) * 300


class Cli:
    def __init__(self, server: FakeSessionServer, rest: FakeRest) -> None:
        self.server, self.rest = server, rest

    def __call__(self, args: list[str], stdin: bytes | None = None, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(app, ["session", *args], input=stdin, env={"COLUMNS": "200", **(env or {})})


@pytest.fixture
def cli_for(tmp_path: Path, client_env: Path) -> Iterator[Callable[..., Cli]]:
    stack: list[Any] = []

    def make(behaviour: Behaviour, rest: FakeRest | None = None) -> Cli:
        server = FakeSessionServer(tmp_path, behaviour)
        running = server.running()
        running.__enter__()
        stack.append(running)
        login = logged_in(client_env, server.url, rest or FakeRest())
        login.__enter__()
        stack.append(login)
        return Cli(server, rest or FakeRest())

    yield make
    for context in reversed(stack):
        context.__exit__(None, None, None)


def make_cli(cli_for: Callable[..., Cli], behaviour: Behaviour, rest: FakeRest | None = None) -> Cli:
    rest = rest or FakeRest()
    cli = cli_for(behaviour, rest)
    cli.rest = rest
    return cli


# --- exec / start / join ---------------------------------------------------------------------


def test_exec_is_8_bit_clean_keeps_stderr_apart_and_exits_with_the_remote_code(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    result = cli(["exec", "web-1", "--", "cat"], stdin=ALL_BYTES)
    assert result.exit_code == 3, (result.output, result.exception)
    assert result.stdout_bytes == ALL_BYTES
    assert result.stderr_bytes == b"remote: done\n"
    assert cli.rest.bodies() == [{"host": "web-1", "kind": "exec", "command": "cat"}]


def test_exec_takes_the_command_without_dashes_as_rsync_calls_it(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    words = ["rsync", "--server", "-vlogDtpre.iLsfxC", "--token", ".", "/tmp/x"]
    result = cli(["exec", "web-1", *words], stdin=b"")
    assert result.exit_code == 3, (result.output, result.exception)
    assert cli.rest.bodies()[0]["command"] == " ".join(words)


def test_exec_options_before_the_host_are_ours(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    result = cli(["exec", "--grace", "5", "web-1", "sh", "-c", "'echo hi'"], stdin=b"")
    assert result.exit_code == 3
    assert cli.rest.bodies()[0]["command"] == "sh -c 'echo hi'"


def test_exec_without_a_command_is_a_usage_error(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    for args in (["exec", "web-1"], ["exec", "web-1", "--"]):
        result = cli(args)
        assert isinstance(result.exception, UsageError), result.output
    assert cli.rest.requests == []


def test_start_without_a_terminal_sends_size_and_term_and_pipes_stdin(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    result = cli(
        ["start", "web-1"], stdin=b"echo hi\n", env={"TERM": "vt100", "COLUMNS": "91", "LINES": "33"}
    )
    assert result.exit_code == 3, (result.output, result.exception)
    assert result.stdout_bytes == b"echo hi\n"
    assert cli.rest.bodies() == [{"host": "web-1", "kind": "shell", "cols": 91, "rows": 33, "term": "vt100"}]


def test_join_observes_and_never_reads_stdin(cli_for: Any) -> None:
    async def show(server: FakeSessionServer, key: Any, conversation: Any) -> None:
        from unit.client.sessions_fake import Stream, exit_with

        await conversation.send(Stream.STDOUT, b"$ top\n")
        await exit_with(conversation, None, 9)

    cli = make_cli(cli_for, show)
    result = cli(["join", "s-7"], stdin=b"rm -rf /\n")
    assert result.exit_code == 128 + 9, (result.output, result.exception)
    assert result.stdout_bytes == b"$ top\n"
    assert cli.server.hellos[0]["mode"] == "observe"
    assert cli.rest.requests == []


def test_a_refused_attach_is_one_line(cli_for: Any, tmp_path: Path, client_env: Path) -> None:
    server = FakeSessionServer(tmp_path, echo_then_exit, close_code=4409)
    with server.running(), logged_in(client_env, server.url, FakeRest()):
        result = CliRunner().invoke(app, ["session", "exec", "web-1", "true"], input=b"")
    assert isinstance(result.exception, AttachRefused) and result.exception.exit_code == 255
    assert result.stdout_bytes == b""


# --- cp --------------------------------------------------------------------------------------


def test_cp_upload_streams_the_file_and_checks_the_hosts_sha256(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, upload_sink())
    local = tmp_path / "data.bin"
    local.write_bytes(payload(300_000))
    result = cli(["cp", str(local), "web-1:/tmp/"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert cli.server.results[("s-1", None)] == payload(300_000)
    assert hashlib.sha256(payload(300_000)).hexdigest() in result.stdout
    body = cli.rest.bodies()[0]
    assert body == {"host": "web-1", "kind": "copy", "direction": "upload", "path": "/tmp/data.bin"}


def test_cp_upload_with_a_wrong_checksum_fails(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, upload_sink(lie=True))
    local = tmp_path / "data.bin"
    local.write_bytes(b"hello")
    result = cli(["cp", str(local), "web-1:/tmp/x"])
    assert isinstance(result.exception, CopyFailed) and "checksum mismatch" in result.exception.message
    assert result.exception.exit_code == 1


def test_cp_download_lands_whole_and_verified(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, download_source(payload(200_000)))
    target = tmp_path / "out"
    target.mkdir()
    result = cli(["cp", "web-1:/var/log/app.log", str(target)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert (target / "app.log").read_bytes() == payload(200_000)
    assert sorted(p.name for p in target.iterdir()) == ["app.log"]
    assert cli.rest.bodies()[0]["direction"] == "download"


def test_cp_download_with_a_checksum_mismatch_leaves_no_file(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, download_source(payload(70_000), lie=True))
    result = cli(["cp", "web-1:/etc/app.conf", str(tmp_path / "app.conf")])
    assert isinstance(result.exception, CopyFailed) and "checksum mismatch" in result.exception.message
    assert list(tmp_path.glob("*app.conf*")) == []


def test_cp_download_remote_error_is_one_line_and_leaves_no_file(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, download_source(b"partial", fail=True))
    result = cli(["cp", "web-1:/etc/shadow", str(tmp_path / "shadow")])
    assert isinstance(result.exception, CopyFailed)
    assert result.exception.message == "cannot open /etc/shadow: Permission denied"
    assert list(tmp_path.glob("*shadow*")) == []


def test_cp_refuses_two_locals_two_remotes_and_a_missing_file(cli_for: Any, tmp_path: Path) -> None:
    cli = make_cli(cli_for, upload_sink())
    for args in (["a", "b"], ["h:a", "h:b"], [str(tmp_path / "missing"), "h:/tmp/x"]):
        result = cli(["cp", *args])
        assert isinstance(result.exception, UsageError), args
    assert cli.rest.requests == []


# --- list / terminate / play / verify --------------------------------------------------------


def test_list_is_json_when_piped_and_asks_for_active_ones(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    result = cli(["list"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["id"] == "s-1"
    assert cli.rest.requests[0][1].endswith("/api/v1/sessions?active=true")
    everything = cli(["list", "--all", "--format", "table"])
    assert "s-1" in everything.stdout and "web-1" in everything.stdout
    assert cli.rest.requests[1][1].endswith("/api/v1/sessions")


def test_terminate_posts(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    result = cli(["terminate", "s-9"])
    assert result.exit_code == 0, result.output
    assert cli.rest.requests[0][:2] == ("POST", cli.server.url + "/api/v1/sessions/s-9/terminate")


RECORDING = {
    "session": {"id": "s-1"},
    "verified": True,
    "header": {"version": 2, "width": 80, "height": 24},
    "events": [[0.0, "o", "hello "], [0.5, "o", "world\r\n"]],
    "end": {},
}


def test_play_replays_the_sanitized_recording_through_the_player(
    cli_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def play(
        events: list[Any],
        write: Callable[[str], None],
        *,
        speed: float = 1.0,
        max_idle: float = 2.0,
        sleep: Any = None,
    ) -> None:
        calls.append((events, speed, max_idle))
        for _, _, text in events:
            write(text)

    monkeypatch.setitem(sys.modules, "rampart.recording.player", types.SimpleNamespace(play=play))
    cli = make_cli(cli_for, echo_then_exit, FakeRest(RECORDING))
    result = cli(["play", "s-1", "--speed", "4", "--max-idle", "0.5"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout_bytes == b"hello world\r\n"
    assert "recording verified" in result.stderr
    assert calls == [(RECORDING["events"], 4.0, 0.5)]
    assert cli.rest.requests[0][1].endswith("/recording?sanitize=true")


def test_verify_exits_1_when_not_verified(cli_for: Any) -> None:
    good = make_cli(cli_for, echo_then_exit, FakeRest(RECORDING))
    assert good(["verify", "s-1"]).exit_code == 0
    bad = make_cli(cli_for, echo_then_exit, FakeRest({**RECORDING, "verified": False}))
    result = bad(["verify", "s-1"])
    assert result.exit_code == 1 and "NOT verified" in result.stdout


def test_forward_refuses_a_bad_spec_before_creating_a_session(cli_for: Any) -> None:
    cli = make_cli(cli_for, echo_then_exit)
    for spec in ("h:", ":p", "h:70000", "h:x"):
        result = cli(["forward", "web-1", spec])
        assert isinstance(result.exception, UsageError), spec
    assert cli.rest.requests == []
