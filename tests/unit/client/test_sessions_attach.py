"""attach and the stdio runner against a real wss server on 127.0.0.1 playing the server and the agent."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from rampart.cli.session_io import Stdio, run_stdio
from rampart.client.config import Connection
from rampart.client.sessions import AttachRefused, attach, client_conversation
from rampart.errors import ClientError, SessionError
from unit.client.fake import SECRET
from unit.client.sessions_fake import (
    PKI,
    Behaviour,
    FakeSessionServer,
    echo_then_exit,
    ending,
    payload,
    streaming,
)
from unit.link.link_helpers import async_test

ALL_BYTES = bytes(range(256)) * 600


def stdio(stdin: bytes = b"") -> Stdio:
    return Stdio(io.BytesIO(stdin), io.BytesIO(), io.BytesIO())


async def run(server: FakeSessionServer, io_: Stdio, *, token: str = SECRET, read_stdin: bool = True) -> int:
    connection = Connection(server.url, token, PKI.ca_pem)
    conversation = client_conversation()
    attaching = attach(connection, "s-1", "control", None, conversation, grace=30)
    return await run_stdio(conversation, attaching, io_, read_stdin=read_stdin)


def fake(tmp_path: Path, behaviour: Behaviour, **kwargs: Any) -> FakeSessionServer:
    return FakeSessionServer(tmp_path, behaviour, **kwargs)


@async_test
async def test_exec_round_trip_is_8_bit_clean_with_separate_stderr_and_exit_code(tmp_path: Path) -> None:
    with fake(tmp_path, echo_then_exit).running() as server:
        io_ = stdio(ALL_BYTES)
        code = await run(server, io_)
    assert code == 3
    assert io_.stdout.getvalue() == ALL_BYTES  # type: ignore[attr-defined]
    assert io_.stderr.getvalue() == b"remote: done\n"  # type: ignore[attr-defined]
    assert server.hellos == [{"token": SECRET, "mode": "control", "connection": None}]


@async_test
async def test_stdin_from_a_pipe_is_polled(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    with fake(tmp_path, echo_then_exit).running() as server, open(read_end, "rb", buffering=0) as source:
        os.write(write_end, b"line one\nline two\n")
        os.close(write_end)
        io_ = Stdio(source, io.BytesIO(), io.BytesIO())  # type: ignore[arg-type]
        assert await run(server, io_) == 3
    assert io_.stdout.getvalue() == b"line one\nline two\n"  # type: ignore[attr-defined]


@async_test
async def test_a_dropped_websocket_is_re_attached_without_loss_or_repeat(tmp_path: Path) -> None:
    size = 2 * 1024 * 1024
    with fake(tmp_path, streaming(size, drop_at=256 * 1024)).running() as server:
        io_ = stdio()
        code = await run(server, io_, read_stdin=False)
    assert code == 0
    assert server.attaches == 2
    got = io_.stdout.getvalue()  # type: ignore[attr-defined]
    assert len(got) == size and got == payload(size)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (4403, "not allowed"),
        (4404, "no such session"),
        (4409, "already has a controlling client"),
        (4410, "session ended"),
        (4499, "4499: refused"),
    ],
)
@async_test
async def test_final_close_codes_are_one_line_errors(tmp_path: Path, code: int, words: str) -> None:
    server = fake(tmp_path, echo_then_exit, close_code=code)
    with server.running(), pytest.raises(AttachRefused) as error:
        await run(server, stdio(b"x"))
    assert error.value.code == code and words in error.value.message
    assert "\n" not in error.value.message
    assert len(server.hellos) == 1  # never retried


@async_test
async def test_a_bad_token_is_refused_with_a_login_hint(tmp_path: Path) -> None:
    with fake(tmp_path, echo_then_exit).running() as server, pytest.raises(AttachRefused) as error:
        await run(server, stdio(), token="rpt_wrong")
    assert error.value.code == 4401 and "rampart login" in error.value.message


@async_test
async def test_an_end_event_before_the_close_is_shown_and_exits_255(tmp_path: Path) -> None:
    with fake(tmp_path, ending("terminated by bob")).running() as server:
        io_ = stdio()
        code = await run(server, io_, read_stdin=False)
    assert code == 255
    assert io_.stdout.getvalue() == b"bye\n"  # type: ignore[attr-defined]
    assert io_.stderr.getvalue() == b"[session ended: terminated by bob]\n"  # type: ignore[attr-defined]


@async_test
async def test_a_server_with_another_ca_is_not_trusted(tmp_path: Path) -> None:
    from unit.client.pki import make_pki

    with fake(tmp_path, echo_then_exit).running() as server:
        connection = Connection(server.url, SECRET, make_pki().ca_pem)
        with pytest.raises(ClientError) as error:
            await attach(connection, "s-1", "control", None, client_conversation(), grace=30)
    assert "TLS verification" in error.value.message
    assert server.hellos == []


@async_test
async def test_no_server_within_the_grace_period_is_an_error(tmp_path: Path) -> None:
    with fake(tmp_path, echo_then_exit).running() as server:
        url = server.url
    connection = Connection(url, SECRET, PKI.ca_pem)
    with pytest.raises(SessionError) as error:
        await attach(connection, "s-1", "control", None, client_conversation(), grace=0)
    assert "lost the connection" in error.value.message


@async_test
async def test_attach_refuses_a_bad_mode_and_a_missing_token() -> None:
    with pytest.raises(SessionError):
        await attach(Connection("https://a.example", SECRET), "s", "steal", None, client_conversation())
    with pytest.raises(ClientError):
        await attach(Connection("https://a.example", None), "s", "control", None, client_conversation())
