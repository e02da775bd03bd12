"""The agent link's messages: strict on the way in, from either side."""

from __future__ import annotations

import orjson
import pytest

from rampart.agent import protocol as p
from rampart.errors import AgentLinkError

HOST = "h-0123456789abcdef"


def test_handshake_messages_round_trip() -> None:
    hello = p.Hello(host_id=HOST, certificate_pem="PEM", signature="c2ln", agent_version="0.1.0")
    assert p.decode(p.Hello, p.encode(hello)) == hello


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not JSON"),
        (b'{"type":"hello"', "not JSON"),
        (b"[1,2,3]", "bad hello"),
        (
            orjson.dumps(
                {
                    "type": "hello",
                    "host_id": "../etc",
                    "certificate_pem": "x",
                    "signature": "c2ln",
                    "agent_version": "1",
                }
            ),
            "host_id",
        ),
        (
            orjson.dumps(
                {
                    "type": "hello",
                    "host_id": HOST,
                    "certificate_pem": "x",
                    "signature": "c2ln",
                    "agent_version": "1",
                    "admin": True,
                }
            ),
            "admin",
        ),
        (b"{" + b'"a":' * 10 + b"1" + b"}" * 10, "not JSON"),
        (b" " * (p.MAX_HANDSHAKE + 1), "exceeds"),
    ],
)
def test_bad_hello_is_one_line_error(data: bytes, fragment: str) -> None:
    with pytest.raises(AgentLinkError) as caught:
        p.decode(p.Hello, data)
    assert fragment in caught.value.message and "\n" not in caught.value.message


def test_agent_control_messages_are_checked() -> None:
    beat = p.parse_agent_message({"type": "heartbeat", "spool": {"items": 1, "bytes": 10, "full": False}})
    assert isinstance(beat, p.Heartbeat) and beat.spool.items == 1
    for bad in (
        {"type": "heartbeat", "spool": {"items": -1, "bytes": 0, "full": False}},
        {"type": "job", "job_id": "0" * 32, "kind": "inventory"},  # a server message from the agent
        {"type": "rotate", "csr_pem": "x" * 20000},
        {"type": "unknown"},
        "heartbeat",
        None,
    ):
        with pytest.raises(AgentLinkError):
            p.parse_agent_message(bad)


def test_server_messages_are_checked() -> None:
    job = p.parse_server_message({"type": "job", "job_id": "a" * 32, "kind": "inventory", "params": {}})
    assert isinstance(job, p.Job) and job.kind == "inventory"
    for bad in (
        {"type": "job", "job_id": "not-hex", "kind": "inventory"},
        {"type": "job", "job_id": "a" * 32, "kind": "../../bin/sh"},
        {"type": "heartbeat", "spool": {"items": 0, "bytes": 0, "full": False}},
    ):
        with pytest.raises(AgentLinkError):
            p.parse_server_message(bad)


def test_result_metadata_bounds() -> None:
    meta = {
        "id": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "kind": "inventory",
        "size": 10,
        "sha256": "a" * 64,
    }
    assert p.ResultMeta.model_validate(meta).size == 10
    for change in ({"size": p.MAX_RESULT_BYTES + 1}, {"size": -1}, {"sha256": "z" * 64}, {"kind": "A"}):
        with pytest.raises(ValueError):
            p.ResultMeta.model_validate({**meta, **change})
