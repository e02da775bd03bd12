"""``rampart fim``: file integrity monitoring: init, check, update, show and watch (real time, inotify).

A baseline is signed with an Ed25519 key when it is made (init, update) and verified with the public key
before every use: the private key can live away from the host (``--signing-key`` on removable media).
Exit status of ``check``: bits 1 added, 2 removed, 4 changed (changes that need review), 8 unreadable
paths; 16 when the check could not be made (a refused baseline, a bad key or policy).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rampart.cli import fim_fleet
from rampart.cli.remote import OutputFormat, colour, emit, note, wants_json, width

if TYPE_CHECKING:
    from rampart.fim.baseline import Baseline
    from rampart.fim.model import CheckResult
    from rampart.fim.policy import Policy
    from rampart.fim.signing import Signer

app = typer.Typer(
    help="File integrity monitoring: signed baselines, package-aware checks.", no_args_is_help=True
)

BaselineOption = Annotated[
    Path | None,
    typer.Option(
        "--baseline", help="Baseline file (default /var/lib/rampart/fim/baseline.rfim).", show_default=False
    ),
]
SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--signing-key",
        help="Ed25519 private key that signs baselines (default /etc/rampart/fim/signing.key; "
        "created with its .pub on the first init). Keep it off the host.",
        show_default=False,
    ),
]
VerifyKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--verify-key",
        help="Public key that must have signed the baseline (default /etc/rampart/fim/signing.pub).",
        show_default=False,
    ),
]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", min=1, max=256, help="Hashing processes (default: one per CPU).")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="auto: a table on a terminal, JSON when piped.")
]
PackagesOption = Annotated[
    bool,
    typer.Option(
        "--packages/--no-packages", help="Explain changes with the package manager's records (dpkg, rpm)."
    ),
]


@app.command("init")
def init_command(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Watch only these paths (default: the policy's).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML policy (default: the built-in host policy).")
    ] = None,
    baseline: BaselineOption = None,
    signing_key: SigningKeyOption = None,
    hash_name: Annotated[str | None, typer.Option("--hash", help="blake3 (default) or sha256.")] = None,
    workers: WorkersOption = None,
) -> None:
    """Record the tree as it is now in a new signed baseline."""
    from rampart.fim import lifecycle

    policy = _policy(config, paths, hash_name)
    signer = _signer(signing_key, create=True)
    path = _baseline_path(baseline)
    with _progress("recording") as progress:
        made = lifecycle.init(path, policy, signer, workers, progress)
    note(f"baseline of {made.entries:,} paths ({made.hashed:,} hashed, {policy.hash}) written to {path}")
    note(f"signed by key {signer.key_id}")


@app.command("check")
def check_command(
    baseline: BaselineOption = None,
    verify_key: VerifyKeyOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Hash every file again, not only changed ones.")
    ] = False,
    packages: PackagesOption = True,
    only_review: Annotated[
        bool, typer.Option("--only-review", help="List only changes that need review (hide explained ones).")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Explained changes set the exit status bits too.")
    ] = False,
    workers: WorkersOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Compare the tree with the baseline (verified first); exit status bits say what was found."""
    from rampart.fim import lifecycle
    from rampart.fim.outcome import exit_status

    opened = _open(baseline, verify_key)
    with _progress("checking") as progress:
        result = lifecycle.check(opened, full, workers, progress, packages)
    _report(result, only_review, strict, output)
    raise typer.Exit(exit_status(result, strict))


@app.command("update")
def update_command(
    reason: Annotated[str, typer.Option("--reason", help="Why the changes are accepted (recorded, signed).")],
    baseline: BaselineOption = None,
    signing_key: SigningKeyOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Adopt this YAML policy (default: keep the baseline's).")
    ] = None,
    explained_only: Annotated[
        bool,
        typer.Option(
            "--explained-only", help="Accept only changes a package update or a generated file explains."
        ),
    ] = False,
    workers: WorkersOption = None,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Accept the changes: a new signed baseline, and a signed line in the acceptance log."""
    from rampart.fim import lifecycle

    signer = _signer(signing_key, create=False)
    opened = _open(baseline, None, signer)
    policy = _policy(config, None, None) if config else None
    with _progress("updating") as progress:
        accepted = lifecycle.update(opened, signer, reason, policy, explained_only, workers, progress)
    _report(accepted.result, False, False, output)
    counts = ", ".join(f"{n} {kind}" for kind, n in accepted.counts.items())
    note(f"accepted {counts}; reason recorded in {accepted.log}")


@app.command("show")
def show_command(
    prefix: Annotated[str | None, typer.Argument(help="Only paths at or below this one.")] = None,
    baseline: BaselineOption = None,
    verify_key: VerifyKeyOption = None,
    any_host: Annotated[
        bool, typer.Option("--any-host", help="Show a baseline made on another host.")
    ] = False,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """What a baseline holds: its header, then its entries (verified first)."""
    from rampart.fim.showing import render_entries

    opened = _open(baseline, verify_key, any_host=any_host)
    below = _absolute(prefix) if prefix else None
    for chunk in render_entries(opened, below, json_lines=wants_json(output)):
        emit(chunk)


@app.command("watch")
def watch_command(
    baseline: BaselineOption = None,
    verify_key: VerifyKeyOption = None,
    packages: PackagesOption = True,
    settle: Annotated[
        float,
        typer.Option(
            "--settle", min=0.0, max=10.0, help="Seconds a path's events are gathered before it is read."
        ),
    ] = 0.2,
    poll: Annotated[
        float,
        typer.Option(
            "--poll", min=1.0, help="Seconds between quick checks of trees that could not be watched."
        ),
    ] = 60.0,
    output: FormatOption = OutputFormat.AUTO,
) -> None:
    """Report each change as it happens (inotify), after reporting what changed while nothing watched."""
    from rampart.fim.watch import Notice, Options, notice_json, notice_line, run

    opened = _open(baseline, verify_key)
    as_json = wants_json(output)

    def show(notice: Notice) -> None:
        if notice.info is not None or notice.warning is not None:
            note(notice.info or f"WARNING: {notice.warning}")
            if notice.warning is None or not as_json:
                return
        emit(notice_json(notice) if as_json else notice_line(notice))
        sys.stdout.flush()

    run(opened, Options(settle=settle, poll=poll, packages=packages), show)


def _policy(config: Path | None, paths: list[str] | None, hash_name: str | None) -> Policy:
    from dataclasses import replace

    from rampart.errors import UsageError
    from rampart.fim.model import HashName
    from rampart.fim.policy import load_policy, with_paths

    policy = load_policy(config)
    if paths:
        policy = with_paths(policy, [_absolute(p) for p in paths])
    if hash_name is not None:
        if hash_name not in {h.value for h in HashName}:
            raise UsageError(f"unknown hash {hash_name!r}: use blake3 or sha256")
        policy = replace(policy, hash=HashName(hash_name))
    return policy


def _absolute(path: str) -> bytes:
    """An absolute, normalised path as given: symlinks are not resolved (``/bin`` stays ``/bin``)."""
    return os.fsencode(os.path.abspath(path))  # noqa: PTH100 - Path.resolve would follow links


def _signer(path: Path | None, create: bool) -> Signer:
    from rampart.fim.signing import default_signing_key, default_verify_key, generate_keypair, load_signer

    key = path or default_signing_key()
    if create and not key.exists():
        public = default_verify_key() if path is None else key.with_name(key.name + ".pub")
        key_id = generate_keypair(key, public)
        note(f"new signing key {key_id}: {key} (keep it off this host; pass --signing-key to update)")
        note(f"its public key {public} verifies baselines (--verify-key)")
    return load_signer(key)


def _baseline_path(path: Path | None) -> Path:
    from rampart.fim.baseline import default_baseline_path

    return path or default_baseline_path()


def _open(
    path: Path | None, verify_key: Path | None, signer: Signer | None = None, any_host: bool = False
) -> Baseline:
    from rampart.fim.lifecycle import open_verified
    from rampart.fim.signing import default_verify_key, load_verifier

    verifier = signer.verifier() if signer is not None else load_verifier(verify_key or default_verify_key())
    return open_verified(_baseline_path(path), verifier, any_host)


def _report(result: CheckResult, only_review: bool, strict: bool, output: OutputFormat) -> None:
    from datetime import UTC, datetime

    from rampart.fim.outcome import listed

    shown = listed(result, only_review)
    if wants_json(output):
        from rampart.report.fim_json import render_fim_json

        emit(render_fim_json(result, shown, datetime.now(UTC), strict))
        return
    from rampart.report.fim_table import render_fim_table

    emit(render_fim_table(result, shown, width=width(), color=colour()))


def _progress(doing: str) -> AbstractContextManager[Callable[[int], None] | None]:
    """A path count on stderr while the tree is walked, when stderr is a terminal."""
    from rampart.cli.scan import counting

    return counting(doing, "paths")


fim_fleet.register(app)  # the fleet's view: hosts, changes, accept, request
