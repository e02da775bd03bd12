"""The agent's session host over a real link: start, stream, exit, refuse, and resume after a drop."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from rampart.agent.session_host import SessionHost
from rampart.errors import LinkError
from rampart.link.mux import Mux
from rampart.link.transport import memory_pair
from rampart.session import records
from rampart.session.records import FROM_AGENT, TOWARD_AGENT, Stream
from rampart.session.streams import ChannelPipe, Conversation
from unit.agent.sessions.session_helpers import Accounts
from unit.link.link_helpers import async_test


@asynccontextmanager
async def agent_link(host: SessionHost) -> AsyncIterator[Mux]:
    """A link whose agent end hands session channels to ``host``; yields the server's end."""
    left, right = memory_pair(64)
    server, agent = Mux(left, initiator=False), Mux(right, initiator=True)
    tasks = [asyncio.create_task(server.run()), asyncio.create_task(agent.run())]

    accepted: set[asyncio.Task[None]] = set()

    async def accept() -> None:
        while True:
            channel = await agent.accept()
            task = asyncio.create_task(host.accept(channel))
            accepted.add(task)
            task.add_done_callback(accepted.discard)

    tasks.append(asyncio.create_task(accept()))
    try:
        yield server
    finally:
        await server.close("test over")
        await agent.close("test over")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def meta(kind: str, login: str, session_id: str = "s1", **extra: Any) -> dict[str, Any]:
    return {
        "id": session_id,
        "kind": kind,
        "login": login,
        "cols": 100,
        "rows": 40,
        "term": "xterm",
        "resume": False,
        "grace": 30,
        **extra,
    }


async def open_session(server: Mux, conversation: Conversation, info: dict[str, Any]) -> None:
    channel = await server.open("session", "interactive", info)
    await conversation.attach(ChannelPipe(channel), 10)


async def collect(
    conversation: Conversation, until: str = "exit"
) -> tuple[dict[Stream, bytes], list[dict[str, Any]]]:
    streams: dict[Stream, bytes] = {s: b"" for s in FROM_AGENT}
    events: list[dict[str, Any]] = []
    while not events or events[-1]["type"] != until:
        stream, data = await conversation.receive()
        if stream is Stream.CTL_OUT:
            events.append(records.parse_event(data))
        else:
            streams[stream] += data
    return streams, events


@async_test
async def test_exec_streams_stdout_stderr_and_the_exit_code(accounts: Accounts) -> None:
    host = SessionHost()
    conversation = Conversation(TOWARD_AGENT, FROM_AGENT)
    async with agent_link(host) as server:
        command = "id -un; echo oops >&2; head -c 3; exit 7"
        await open_session(server, conversation, meta("exec", accounts.alice.name, command=command))
        await conversation.send(Stream.STDIN, b"abcdef")
        streams, events = await collect(conversation)
    assert streams[Stream.STDOUT] == f"{accounts.alice.name}\nabc".encode()
    assert streams[Stream.STDERR] == b"oops\n"
    assert events[0]["type"] == "started" and events[-1] == {"type": "exit", "code": 7, "signal": None}


@async_test
async def test_a_refused_login_closes_the_channel_with_the_reason(accounts: Accounts) -> None:
    host = SessionHost()
    async with agent_link(host) as server:
        for login, reason in (("root", "root"), ("nosuchuser", "no such user"), ("Bad Name", "invalid")):
            conversation = Conversation(TOWARD_AGENT, FROM_AGENT)
            with pytest.raises(LinkError, match=f"closed by the peer: .*{reason}"):
                await open_session(server, conversation, meta("exec", login, command="true"))
    assert host.running == {}


@async_test
async def test_resume_of_an_unknown_session_is_refused(accounts: Accounts) -> None:
    host = SessionHost()
    async with agent_link(host) as server:
        with pytest.raises(LinkError, match="unknown session"):
            await open_session(server, Conversation(TOWARD_AGENT, FROM_AGENT), meta("exec", "x", resume=True))


@async_test
async def test_output_survives_a_dropped_link_and_resumes_exactly(accounts: Accounts) -> None:
    host = SessionHost()
    conversation = Conversation(TOWARD_AGENT, FROM_AGENT)
    info = meta("exec", accounts.alice.name, command="seq 1 200000")
    got = bytearray()
    async with agent_link(host) as server:
        await open_session(server, conversation, info)
        while len(got) < 100_000:
            stream, data = await conversation.receive()
            got += data if stream is Stream.STDOUT else b""
    assert conversation.detached.is_set() or await _detached(conversation)
    assert "s1" in host.running  # the process lives on while the server is away
    async with agent_link(host) as server:
        await open_session(server, conversation, {**info, "resume": True})
        streams, events = await collect(conversation)
    got += streams[Stream.STDOUT]
    expected = "".join(f"{n}\n" for n in range(1, 200001)).encode()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert events[-1]["code"] == 0


async def _detached(conversation: Conversation) -> bool:
    await asyncio.wait_for(conversation.detached.wait(), 10)
    return True


@async_test
async def test_a_shell_gets_its_size_and_reports_echo_changes(accounts: Accounts) -> None:
    host = SessionHost()
    conversation = Conversation(TOWARD_AGENT, FROM_AGENT)
    async with agent_link(host) as server:
        await open_session(server, conversation, meta("shell", accounts.alice.name))
        await conversation.send(
            Stream.STDIN, b"stty size; stty -echo; printf 'Pass''word:'; read x; stty echo\n"
        )
        output, early = b"", []
        while b"Password:" not in output:
            stream, data = await conversation.receive()
            output += data if stream is Stream.STDOUT else b""
            early += [records.parse_event(data)] if stream is Stream.CTL_OUT else []
        await conversation.send(Stream.STDIN, b"secret\n")
        await conversation.send(Stream.STDIN, b"echo done; exit 3\n")
        streams, events = await collect(conversation)
    assert b"40 100" in output and b"secret" not in output + streams[Stream.STDOUT]
    echo = [event["on"] for event in early + events if event["type"] == "echo"]
    assert echo == [False, True] and events[-1]["code"] == 3


@async_test
async def test_copy_reports_size_and_sha256(accounts: Accounts, tmp_path: Any) -> None:
    host = SessionHost()
    payload = bytes(range(256)) * 1000
    target = f"{accounts.alice.home}/upload.bin"
    up = Conversation(TOWARD_AGENT, FROM_AGENT)
    down = Conversation(TOWARD_AGENT, FROM_AGENT)
    async with agent_link(host) as server:
        await open_session(
            server, up, meta("copy", accounts.alice.name, "u", direction="upload", path=target)
        )
        await up.send(Stream.STDIN, payload)
        await up.send_event(Stream.CTL_IN, {"type": "eof"})
        _, up_events = await collect(up)
        await open_session(
            server, down, meta("copy", accounts.alice.name, "d", direction="download", path=target)
        )
        streams, down_events = await collect(down)
    digest = hashlib.sha256(payload).hexdigest()
    assert {"type": "copied", "bytes": len(payload), "sha256": digest} in up_events
    assert streams[Stream.STDOUT] == payload
    assert {"type": "copied", "bytes": len(payload), "sha256": digest} in down_events


@async_test
async def test_terminate_stops_the_process(accounts: Accounts) -> None:
    host = SessionHost()
    conversation = Conversation(TOWARD_AGENT, FROM_AGENT)
    async with agent_link(host) as server:
        await open_session(server, conversation, meta("exec", accounts.alice.name, command="sleep 600"))
        await conversation.send_event(Stream.CTL_IN, {"type": "terminate", "reason": "test"})
        _, events = await collect(conversation)
    assert events[-1]["signal"] is not None or events[-1]["code"] != 0
