"""``rampart session``: shells, commands, port forwards and file copies on enrolled hosts, through the server.

``start`` gives an interactive shell, ``exec`` runs one command with 8-bit clean stdio (usable as the
remote shell of rsync and git: ``rsync -e 'rampart session exec' FILE HOST:PATH``), ``forward``
carries local TCP connections to a host's network, ``cp`` copies one file either way and checks the
host's SHA-256, ``join`` watches a shell; ``list``, ``terminate``, ``play`` and ``verify`` manage
sessions and their recordings. Only the remote's bytes reach stdout: remarks and progress use stderr.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rampart.cli.remote import (
    FormatOption,
    OutputFormat,
    ServerOption,
    TokenOption,
    emit_json,
    make_client,
    note,
    wants_json,
)
from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.cli.session_io import Stdio
    from rampart.client.api import ApiClient
    from rampart.client.config import Connection
    from rampart.session.streams import Conversation

app = typer.Typer(
    help="Shells, commands, port forwards and file copies on enrolled hosts.", no_args_is_help=True
)

HostArgument = Annotated[str, typer.Argument(help="Host id (h-...) or hostname.", show_default=False)]
SessionArgument = Annotated[str, typer.Argument(help="Session id.", show_default=False)]
GraceOption = Annotated[
    float, typer.Option("--grace", min=0, help="Seconds to keep reconnecting after the network drops.")
]
DEFAULT_GRACE = 60.0
DEFAULT_TERM = "xterm-256color"
_HOST = re.compile(r"[A-Za-z0-9_.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
_PASSTHROUGH = {"allow_interspersed_args": False, "allow_extra_args": True, "ignore_unknown_options": True}


# --- arguments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardSpec:
    local_port: int
    target: str  # HOST:PORT as the server takes it


def parse_port(text: str, spec: str, *, zero: bool = False) -> int:
    """A TCP port number (0 only when ``zero``), with an error that quotes the argument."""
    if not text:
        raise UsageError(f"{_shown(spec)}: a port number is missing")
    if not text.isascii() or not text.isdigit():
        raise UsageError(f"{_shown(spec)}: port {_shown(text)} is not a number")
    low = 0 if zero else 1
    if len(text) > 5 or not low <= int(text) <= 65535:
        raise UsageError(f"{_shown(spec)}: port {_shown(text)} is out of range ({low}-65535)")
    return int(text)


def _shown(text: str) -> str:
    """An argument as an error message quotes it: escaped, and clipped when long."""
    from rampart.report.escape import safe_text

    return repr(safe_text(text if len(text) <= 60 else text[:57] + "..."))


def parse_forward(spec: str) -> ForwardSpec:
    """``[LOCAL_PORT:]HOST:PORT`` (HOST may be ``[v6]``); the local port defaults to the target's."""
    head, sep, port_text = spec.rpartition(":")
    if not sep or not head:
        raise UsageError(f"{_shown(spec)}: expected [LOCAL_PORT:]HOST:PORT")
    port = parse_port(port_text, spec)
    local_text, host = _split_local(head, spec)
    if not _HOST.fullmatch(host):
        raise UsageError(f"{_shown(spec)}: {_shown(host)} is not a host name or address")
    local = port if local_text is None else parse_port(local_text, spec, zero=True)
    return ForwardSpec(local, f"{host}:{port}")


def _split_local(head: str, spec: str) -> tuple[str | None, str]:
    if head.endswith("]"):
        prefix, bracket, rest = head.partition("[")
        if prefix and not prefix.endswith(":"):
            raise UsageError(f"{_shown(spec)}: expected [LOCAL_PORT:]HOST:PORT")
        return (prefix[:-1] if prefix else None), bracket + rest
    local, sep, host = head.rpartition(":")
    if not host:
        raise UsageError(f"{_shown(spec)}: the target host is missing")
    return (local if sep else None), host


def split_remote(argument: str) -> tuple[str, str] | None:
    """``HOST:PATH`` split at the first ':'; None for a local path (no ':' or a '/' before it)."""
    host, sep, path = argument.partition(":")
    if not sep or "/" in host:
        return None
    if not host:
        raise UsageError(f"{_shown(argument)} has no host before ':' (write ./ before a local file name)")
    if not path:
        raise UsageError(f"{_shown(argument)} has no remote path after ':'")
    return host, path


@dataclass(frozen=True)
class CopyPlan:
    direction: str  # "upload" or "download"
    host: str
    remote: str
    local: Path


def copy_plan(source: str, destination: str) -> CopyPlan:
    """Exactly one of the two is HOST:PATH; a remote directory (trailing '/') gets the local name."""
    src, dst = split_remote(source), split_remote(destination)
    if (src is None) == (dst is None):
        raise UsageError("exactly one of SOURCE and DEST must be HOST:PATH (write ./a:b for a local a:b)")
    if dst is not None:
        remote = dst[1] + Path(source).name if dst[1].endswith("/") else dst[1]
        return CopyPlan("upload", dst[0], remote, Path(source))
    assert src is not None
    local = Path(destination)
    if local.is_dir():
        local = local / Path(src[1]).name
    return CopyPlan("download", src[0], src[1], local)


def command_line(words: list[str]) -> str:
    """The remote command line as ssh builds it: the words joined by spaces (an optional leading --)."""
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        raise UsageError("no command given: rampart session exec HOST [--] COMMAND...")
    return " ".join(words)


# --- plumbing --------------------------------------------------------------------------------


def _connect(server: str | None, token: str | None) -> tuple[Connection, ApiClient]:
    from rampart.client.config import resolve

    connection = resolve(server, token)
    return connection, make_client(connection)


def _create(connection: Connection, client: ApiClient, host: str, kind: str, **params: object) -> str:
    from rampart.client.sessions import create_session

    with client:
        info = create_session(client, host, kind, **params)
    return str(info["id"])


def _attacher(
    connection: Connection, session_id: str, grace: float, mode: str = "control"
) -> Callable[[int | None, Conversation], Coroutine[Any, Any, None]]:
    from rampart.client.sessions import attach

    def attaching(number: int | None, conversation: Conversation) -> Coroutine[Any, Any, None]:
        return attach(connection, session_id, mode, number, conversation, grace=grace)

    return attaching


def _run(main: Coroutine[Any, Any, int]) -> int:
    import asyncio

    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return 130


def _tty_fd(stream: Any) -> int | None:
    """The file descriptor of ``stream`` when it is a terminal."""
    try:
        return int(stream.fileno()) if stream.isatty() else None
    except (OSError, ValueError, AttributeError):
        return None


def _terminal_size(fd: int | None) -> tuple[int, int]:
    import shutil

    if fd is not None:
        try:
            size = os.get_terminal_size(fd)
            return size.columns, size.lines
        except OSError:
            pass
    size = shutil.get_terminal_size((80, 24))
    return size.columns, size.lines


# --- start / exec / join ---------------------------------------------------------------------


@app.command("start")
def start_command(
    host: HostArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    grace: GraceOption = DEFAULT_GRACE,
) -> None:
    """Open an interactive shell on HOST (the terminal goes raw until the shell exits)."""
    from rampart.cli.session_io import Stdio

    fd = _tty_fd(sys.stdin)
    cols, rows = _terminal_size(fd)
    connection, client = _connect(server, token)
    term = os.environ.get("TERM") or DEFAULT_TERM
    session_id = _create(connection, client, host, "shell", cols=cols, rows=rows, term=term)
    io = Stdio.system()
    raise typer.Exit(_shell(_attacher(connection, session_id, grace), io, fd))


def _shell(attaching: Callable[[int | None, Conversation], Any], io: Stdio, fd: int | None) -> int:
    import contextlib

    from rampart.cli.session_io import raw_terminal, run_stdio
    from rampart.client.sessions import client_conversation

    async def main() -> int:
        conversation = client_conversation()
        return await run_stdio(conversation, attaching(None, conversation), io, resize=fd)

    if fd is not None:
        io.eol = "\r\n"
    with raw_terminal(fd) if fd is not None else contextlib.nullcontext():
        return _run(main())


@app.command("exec", context_settings=_PASSTHROUGH)
def exec_command(
    host: HostArgument,
    command: Annotated[
        list[str] | None, typer.Argument(help="The command, run by the remote login shell.")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    grace: GraceOption = DEFAULT_GRACE,
) -> None:
    """Run a command on HOST: stdin, stdout and stderr 8-bit clean; exits with the command's code.

    Options go before HOST; everything after HOST (or after --) is the command.
    """
    from rampart.cli.session_io import Stdio

    line = command_line(list(command or ()))
    connection, client = _connect(server, token)
    session_id = _create(connection, client, host, "exec", command=line)
    raise typer.Exit(_stdio(_attacher(connection, session_id, grace), Stdio.system(), read_stdin=True))


def _stdio(attaching: Callable[[int | None, Conversation], Any], io: Stdio, *, read_stdin: bool) -> int:
    from rampart.cli.session_io import run_stdio
    from rampart.client.sessions import client_conversation

    async def main() -> int:
        conversation = client_conversation()
        return await run_stdio(conversation, attaching(None, conversation), io, read_stdin=read_stdin)

    return _run(main())


@app.command("join")
def join_command(
    session: SessionArgument,
    server: ServerOption = None,
    token: TokenOption = None,
    grace: GraceOption = DEFAULT_GRACE,
) -> None:
    """Watch a running session's output (read-only; nothing is read from stdin)."""
    from rampart.cli.session_io import Stdio
    from rampart.client.config import resolve

    connection = resolve(server, token)
    attaching = _attacher(connection, session, grace, mode="observe")
    raise typer.Exit(_stdio(attaching, Stdio.system(), read_stdin=False))


# --- forward ---------------------------------------------------------------------------------


@app.command("forward")
def forward_command(
    host: HostArgument,
    spec: Annotated[str, typer.Argument(metavar="[LOCAL_PORT:]TARGET_HOST:PORT", show_default=False)],
    bind: Annotated[str, typer.Option("--bind", help="Local address to listen on.")] = "127.0.0.1",
    server: ServerOption = None,
    token: TokenOption = None,
    grace: GraceOption = DEFAULT_GRACE,
) -> None:
    """Forward local TCP connections to TARGET_HOST:PORT as seen from HOST, until Ctrl-C."""
    from rampart.cli.session_io import Forwarder, Stdio

    forward = parse_forward(spec)
    connection, client = _connect(server, token)
    session_id = _create(connection, client, host, "forward", target=forward.target)
    forwarder = Forwarder(_attacher(connection, session_id, grace), Stdio.system())

    def ready(port: int) -> None:
        note(f"forwarding {bind}:{port} -> {forward.target} via {host}; Ctrl-C ends it")

    async def main() -> int:
        await forwarder.serve(bind, forward.local_port, ready)
        return 0

    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a plain kill ends it like Ctrl-C
    try:
        code = _run(main())
    finally:
        _end_forward(connection, session_id)
    raise typer.Exit(code)


def _end_forward(connection: Connection, session_id: str) -> None:
    """A forward lives as long as its command: end the session on the server when we stop."""
    from rampart.client.sessions import terminate_session
    from rampart.errors import RampartError

    try:
        with make_client(connection) as client:
            terminate_session(client, session_id)
    except RampartError as error:
        note(f"could not end session {session_id}: {error.message}")


# --- cp --------------------------------------------------------------------------------------


@app.command("cp")
def cp_command(
    source: Annotated[str, typer.Argument(metavar="SOURCE", show_default=False)],
    destination: Annotated[str, typer.Argument(metavar="DEST", show_default=False)],
    server: ServerOption = None,
    token: TokenOption = None,
    grace: GraceOption = DEFAULT_GRACE,
) -> None:
    """Copy one file to or from a host (one of SOURCE and DEST is HOST:PATH); checks the SHA-256."""
    plan = copy_plan(source, destination)
    if plan.direction == "upload" and not plan.local.is_file():
        raise UsageError(f"{source!r} is not a readable file")
    connection, client = _connect(server, token)
    session_id = _create(connection, client, plan.host, "copy", direction=plan.direction, path=plan.remote)
    attaching = _attacher(connection, session_id, grace)
    size, sha256 = _upload(plan, attaching) if plan.direction == "upload" else _download(plan, attaching)
    sys.stdout.write(f"{sha256}  {size} bytes\n")


def _upload(plan: CopyPlan, attaching: Callable[[int | None, Conversation], Any]) -> tuple[int, str]:
    from rampart.cli.session_io import run_upload
    from rampart.client.sessions import client_conversation

    with plan.local.open("rb") as source, _progress(plan.local.stat().st_size) as advance:

        async def main() -> tuple[int, str]:
            conversation = client_conversation()
            return await run_upload(conversation, attaching(None, conversation), source, advance)

        return _run_copy(main())


def _download(plan: CopyPlan, attaching: Callable[[int | None, Conversation], Any]) -> tuple[int, str]:
    import tempfile

    from rampart.cli.session_io import run_download
    from rampart.client.sessions import client_conversation

    fd, name = tempfile.mkstemp(prefix=f".{plan.local.name}.", suffix=".part", dir=plan.local.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink, _progress(None) as advance:

            async def main() -> tuple[int, str]:
                conversation = client_conversation()
                return await run_download(conversation, attaching(None, conversation), sink, advance)

            result = _run_copy(main())
            sink.flush()
            os.fsync(sink.fileno())
        temporary.replace(plan.local)
        return result
    finally:
        temporary.unlink(missing_ok=True)


def _run_copy(main: Coroutine[Any, Any, tuple[int, str]]) -> tuple[int, str]:
    import asyncio

    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _progress(total: int | None) -> Any:
    """A context giving ``advance(n)``: a rich bar (bytes, rate) on a terminal's stderr, else nothing."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return _bar(total)


def _bar(total: int | None) -> Any:
    import contextlib

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    @contextlib.contextmanager
    def shown() -> Any:
        columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("copy", total=total)
            yield lambda size: progress.advance(task, size)

    return shown()


# --- list / terminate / play / verify --------------------------------------------------------


@app.command("list")
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Ended sessions too.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """List sessions (active ones unless --all): JSON when piped, a table on a terminal."""
    from rampart.client.sessions import list_sessions

    _, client = _connect(server, token)
    with client:
        sessions = list_sessions(client, None if all_ else True)
    if wants_json(output):
        emit_json(sessions)
        return
    _table(sessions)


_COLUMNS = ("id", "kind", "hostname", "user", "login", "started_at", "ended_at", "end_reason", "exit_code")


def _table(sessions: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from rampart.report.escape import safe_text

    table = Table(*_COLUMNS, box=None, header_style="bold")
    for item in sessions:
        cells = ("" if item.get(name) is None else safe_text(str(item.get(name))) for name in _COLUMNS)
        table.add_row(*(Text(cell) for cell in cells))
    Console(file=sys.stdout, width=200 if not sys.stdout.isatty() else None).print(table)


@app.command("terminate")
def terminate_command(
    session: SessionArgument, server: ServerOption = None, token: TokenOption = None
) -> None:
    """End a session now."""
    from rampart.client.sessions import terminate_session
    from rampart.report.escape import safe_text

    _, client = _connect(server, token)
    with client:
        terminate_session(client, session)
    note(f"terminated session {safe_text(session)}")


@app.command("play")
def play_command(
    session: SessionArgument,
    speed: Annotated[float, typer.Option("--speed", min=0.01, help="Playback speed factor.")] = 1.0,
    max_idle: Annotated[float, typer.Option("--max-idle", min=0, help="Longest pause, in seconds.")] = 2.0,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Replay a shell session's recording in this terminal (sequences that could answer back are defused)."""
    import importlib

    from rampart.client.sessions import get_recording

    _, client = _connect(server, token)
    with client:
        recording = get_recording(client, session, sanitize=True)
    note("recording verified" if recording["verified"] else "recording NOT verified")
    player = importlib.import_module("rampart.recording.player")

    def write(text: str) -> None:
        sys.stdout.buffer.write(text.encode("utf-8", "replace"))
        sys.stdout.buffer.flush()

    player.play(recording["events"], write, speed=speed, max_idle=max_idle)


@app.command("verify")
def verify_command(session: SessionArgument, server: ServerOption = None, token: TokenOption = None) -> None:
    """Check a recording's integrity; exits 1 when it does not verify."""
    from rampart.client.sessions import get_recording
    from rampart.report.escape import safe_text

    _, client = _connect(server, token)
    with client:
        recording = get_recording(client, session)
    verified = bool(recording["verified"])
    sys.stdout.write(f"recording of {safe_text(session)}: {'verified' if verified else 'NOT verified'}\n")
    if not verified:
        raise typer.Exit(1)
