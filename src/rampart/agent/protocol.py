"""The messages an agent and the server exchange over the link, with strict validation.

The handshake runs as plain transport messages before the multiplexer starts:
server `Challenge` -> agent `Hello` (certificate + proof of key possession) -> server `Welcome`.
Afterwards the agent opens one "control" channel (heartbeats, jobs, credential rotation) and one
"result" channel per spooled result. Every message is a small JSON object; anything else is a
`LinkProtocolError` that ends the link.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from rampart.errors import AgentLinkError

PROTOCOL_VERSION = 1
MAX_HANDSHAKE = 32 * 1024
MAX_CONTROL_MESSAGE = 64 * 1024
MAX_RESULT_BYTES = 64 * 1024 * 1024
# Bytes each side lets the other send on one channel before it reads them. Throughput per channel is at
# most this over the round trip, and a keystroke may queue behind this much bulk data: 256 KiB gave
# about 150 MB/s forwards with a 9-10 ms p99 echo during them; 1 MiB gave 194 MB/s but 23 ms
# (benchmarks/sessions.py).
CHANNEL_WINDOW = 256 * 1024
CLOSE_UNAUTHORIZED = 4401
CLOSE_REVOKED = 4403
CLOSE_PROTOCOL = 4400

B64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=_-]{1,1024}$")]
Text = Annotated[str, StringConstraints(max_length=256)]
Pem = Annotated[str, StringConstraints(min_length=1, max_length=16384)]
JobId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
ResultId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
ResultKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,31}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Challenge(Message):
    type: Literal["challenge"] = "challenge"
    version: int
    challenge: B64


class Hello(Message):
    type: Literal["hello"] = "hello"
    host_id: Annotated[str, StringConstraints(pattern=r"^h-[0-9a-f]{16}$")]
    certificate_pem: Pem
    signature: B64
    agent_version: Text


class Welcome(Message):
    type: Literal["welcome"] = "welcome"
    host_id: str
    heartbeat: float
    scan_interval: float
    keepalive: Annotated[float, Field(gt=0, le=3600)] = 15.0
    dead_after: Annotated[float, Field(gt=0, le=7200)] = 45.0


class SpoolState(Message):
    items: Annotated[int, Field(ge=0)]
    bytes: Annotated[int, Field(ge=0)]
    full: bool


class Heartbeat(Message):
    type: Literal["heartbeat"] = "heartbeat"
    spool: SpoolState


class Job(Message):
    type: Literal["job"] = "job"
    job_id: JobId
    kind: ResultKind
    params: Annotated[dict[str, Any], Field(max_length=16)] = {}


class JobStatus(Message):
    type: Literal["job.status"] = "job.status"
    job_id: JobId
    state: Literal["running", "done", "failed"]
    error: Text = ""


class Rotate(Message):
    type: Literal["rotate"] = "rotate"
    csr_pem: Pem


class Rotated(Message):
    type: Literal["rotated"] = "rotated"
    certificate_pem: Pem


class ResultMeta(Message):
    """The OPEN metadata of a result channel."""

    id: ResultId
    kind: ResultKind
    size: Annotated[int, Field(ge=0, le=MAX_RESULT_BYTES)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ResultAck(Message):
    type: Literal["result.ack"] = "result.ack"
    id: str
    status: Literal["stored", "duplicate", "rejected", "retry"]
    error: Text = ""


M = TypeVar("M", bound=Message)
AgentMessage = Annotated[Heartbeat | JobStatus | Rotate, Field(discriminator="type")]
ServerMessage = Annotated[Job | Rotated, Field(discriminator="type")]
_AGENT = TypeAdapter[Any](AgentMessage)
_SERVER = TypeAdapter[Any](ServerMessage)


def encode(message: Message) -> bytes:
    """The wire bytes of a message."""
    return orjson.dumps(message.model_dump(mode="json"))


def decode(kind: type[M], data: bytes) -> M:
    """Parse one handshake message; `AgentLinkError` with a one-line reason when it is not one."""
    try:
        return kind.model_validate(_json(data))
    except ValidationError as error:
        raise AgentLinkError(f"bad {kind.__name__.lower()} message: {_first(error)}") from None


def parse_agent_message(obj: object) -> Heartbeat | JobStatus | Rotate:
    """A control message from the agent (the server's side)."""
    return _validate(_AGENT, obj, "agent")  # type: ignore[no-any-return]


def parse_server_message(obj: object) -> Job | Rotated:
    """A control message from the server (the agent's side)."""
    return _validate(_SERVER, obj, "server")  # type: ignore[no-any-return]


def _validate(adapter: TypeAdapter[Any], obj: object, side: str) -> Any:
    try:
        return adapter.validate_python(obj)
    except ValidationError as error:
        raise AgentLinkError(f"bad {side} message: {_first(error)}") from None


def _json(data: bytes) -> Any:
    if len(data) > MAX_HANDSHAKE:
        raise AgentLinkError(f"handshake message of {len(data)} bytes exceeds {MAX_HANDSHAKE}")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise AgentLinkError(f"handshake message is not JSON: {error}") from None


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    return f"{where}: {first['msg']}"[:200]
