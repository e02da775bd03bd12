"""``rampart audit``: verify and export a hash-chained audit log file (JSON lines)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli.settings import settings_of
from rampart.errors import UsageError

if TYPE_CHECKING:
    from rampart.audit.chain import Anchor, VerifyResult

app = typer.Typer(help="Verify and export the audit log.", no_args_is_help=True)

AnchorOption = Annotated[
    str | None,
    typer.Option("--anchor", help="The last known head as SEQ:HASH; catches a log cut short or rewritten."),
]


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    log: Annotated[Path, typer.Argument(help="Audit log file.")],
    anchor: AnchorOption = None,
) -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry."""
    from rampart.audit.sinks import verify_file

    result = verify_file(_existing(log), _anchor(anchor))
    if settings_of(ctx).interactive:
        typer.echo(_describe(result))
    else:
        typer.echo(json.dumps(_as_json(result)))
    if not result.ok:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    log: Annotated[Path, typer.Argument(help="Audit log file.")],
    anchor: AnchorOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep following the log as it grows, verifying each entry.")
    ] = False,
) -> None:
    """Write the verified log as JSON lines for a SIEM; a broken log is refused."""
    from rampart.audit.chain import require_ok
    from rampart.audit.events import AuditEvent
    from rampart.audit.sinks import export_jsonl, read_jsonl, verify_file

    if follow:
        _follow(_existing(log), output)
        return
    require_ok(verify_file(_existing(log), _anchor(anchor)))
    text = export_jsonl(item for item in read_jsonl(log) if isinstance(item, AuditEvent))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="ascii")


def _follow(log: Path, output: Path | None) -> None:
    """Stream entries as they are appended, stopping with an error at the first one that breaks the chain."""
    import threading

    from rampart.audit.chain import GENESIS, Anchor, require_ok, verify
    from rampart.audit.codec import to_line
    from rampart.audit.events import AuditEvent
    from rampart.audit.sinks import follow
    from rampart.errors import AuditError

    head, stop = GENESIS, threading.Event()
    with output.open("a", encoding="ascii") if output else sys.stdout as sink:
        try:
            for item in follow(log, stop):
                if not isinstance(item, AuditEvent):
                    raise AuditError(f"audit log line {item.line_no}: {item.message}")
                require_ok(verify([item], start=head))
                head = Anchor(item.seq, item.hash)
                sink.write(to_line(item) + "\n")
                sink.flush()
        except KeyboardInterrupt:
            stop.set()


@app.command("pull")
def pull_command(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    after: Annotated[
        int, typer.Option("--after", min=0, help="Only entries after this sequence number.")
    ] = 0,
    server: Annotated[str | None, typer.Option("--server", help="Server URL.", show_default=False)] = None,
    token: Annotated[str | None, typer.Option("--token", help="API token.", show_default=False)] = None,
) -> None:
    """Fetch the server's audit log as JSON lines (auditors), verifying the chain on the way."""
    from rampart.audit.chain import GENESIS, require_ok, verify
    from rampart.audit.codec import to_line
    from rampart.cli.remote import open_client

    with open_client(server, token) as client:
        events = list(client.audit_events(after=after or None))
    if after == 0:
        require_ok(verify(events, start=GENESIS))
    text = "".join(to_line(event) + "\n" for event in events)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="ascii")


def _existing(log: Path) -> Path:
    if not log.is_file():
        raise UsageError(f"audit log {log} does not exist or is not a file")
    return log


def _anchor(text: str | None) -> Anchor | None:
    from rampart.audit.chain import Anchor
    from rampart.errors import AuditError

    if text is None:
        return None
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit():
        raise UsageError("--anchor takes SEQ:HASH, e.g. 42:9f86d081...")
    try:
        return Anchor(int(seq), digest)
    except AuditError as error:
        raise UsageError(f"--anchor: {error.message}") from None


def _describe(result: VerifyResult) -> str:
    if result.ok:
        return f"ok: {result.checked} entries, head {result.head.seq}:{result.head.hash}"
    reason = result.reason.value if result.reason else "broken"
    return f"broken at entry {result.position}: {reason} ({result.detail}); {result.checked} entries verified"


def _as_json(result: VerifyResult) -> dict[str, object]:
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head": {"seq": result.head.seq, "hash": result.head.hash},
        "position": result.position,
        "reason": result.reason.value if result.reason else None,
        "detail": result.detail,
    }
