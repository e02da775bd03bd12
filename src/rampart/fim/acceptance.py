"""The acceptance log beside a baseline (``<baseline>.log``): who accepted which changes, when, and why.

Each ``fim update --reason`` appends one JSON line: time, user, reason, change counts, the previous and the
new baseline's digest, ``prev`` (the SHA-256 of the previous line, empty on the first) and an Ed25519
signature over the rest of the line (sorted-key compact JSON, prefixed ``rampart-fim-acceptance-1\\n``).
`read_acceptances` verifies every signature and the chain as it streams; `verify_latest` checks that a
baseline is the one the log's last line accepted (an older, replayed baseline is refused).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from rampart.errors import BaselineRefused, FimError
from rampart.fim.signing import Signer, Verifier

SIGNED_CONTEXT = b"rampart-fim-acceptance-1\n"
MAX_LINE = 64 * 1024
MAX_REASON = 4096
_FIELDS = ("time", "user", "reason", "previous", "new", "prev", "key_id", "sig")
_COUNTS = frozenset({"added", "removed", "changed"})


class AcceptanceLogTampered(FimError):
    """The acceptance log fails verification (edited, truncated in the middle, lines swapped, other key)."""


@dataclass(frozen=True)
class Acceptance:
    """One accepted update of the baseline."""

    time: str
    user: str
    reason: str
    counts: Mapping[str, int]
    previous: str
    new: str
    key_id: str


def log_path_for(baseline: Path) -> Path:
    return baseline.with_name(baseline.name + ".log")


def append_acceptance(
    log: Path,
    signer: Signer,
    *,
    reason: str,
    counts: Mapping[str, int],
    previous: str,
    new: str,
    user: str | None = None,
    now: Callable[[], datetime] | None = None,
) -> Acceptance:
    """Verify the log, then append one signed, chained line; the record written."""
    _check_reason(reason)
    record = Acceptance(
        _timestamp(now), user or _current_user(), reason, dict(counts), previous, new, signer.key_id
    )
    if not _valid_counts(record.counts):
        raise FimError("acceptance counts must be added/removed/changed with whole numbers")
    fd = os.open(log, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        last = ""
        for _, line_hash in _verified(fh, signer.verifier()):
            last = line_hash
        fh.write(_signed_line(record, last, signer) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return record


def read_acceptances(log: Path, verifier: Verifier) -> Iterator[Acceptance]:
    """Every line of the log, oldest first, each verified before it is yielded."""
    try:
        fh = log.open("rb")
    except OSError as exc:
        raise FimError(f"cannot read acceptance log {log}: {exc.strerror}") from None
    with fh:
        for record, _ in _verified(fh, verifier):
            yield record


def verify_latest(log: Path, verifier: Verifier, digest: str) -> None:
    """Refuse a baseline that is not the one the log's last line accepted (no-op without a log)."""
    if not log.exists():
        return
    last = None
    for last in read_acceptances(log, verifier):  # noqa: B007 - only the last one matters
        pass
    if last is not None and last.new != digest:
        raise BaselineRefused(
            "baseline REFUSED: it is not the baseline the acceptance log last accepted (rolled back or"
            " replaced?) — do not trust this host's files until you know why"
        )


def _verified(fh: IO[bytes], verifier: Verifier) -> Iterator[tuple[Acceptance, str]]:
    fh.seek(0)
    previous_hash, previous_new, number = "", None, 0
    while line := fh.readline(MAX_LINE + 1):
        number += 1
        if not line.endswith(b"\n"):
            raise _tampered(number, "is cut short or longer than 64 KiB")
        record = _parse(line[:-1], number, previous_hash, verifier)
        if previous_new is not None and record.previous not in (previous_new, ""):
            raise _tampered(number, "does not continue from the baseline the line before accepted")
        previous_hash, previous_new = hashlib.sha256(line[:-1]).hexdigest(), record.new
        yield record, previous_hash


def _parse(line: bytes, number: int, previous_hash: str, verifier: Verifier) -> Acceptance:
    try:
        obj = orjson.loads(line)
        record, prev, signature = _from_json(obj)
    except (ValueError, TypeError, KeyError):
        raise _tampered(number, "is malformed") from None
    if record.key_id != verifier.key_id:
        raise _tampered(number, f"is signed by key {record.key_id}, the verify key is {verifier.key_id}")
    if prev != previous_hash:
        raise _tampered(number, "does not chain to the line before it (lines removed or reordered)")
    try:
        verifier.verify(SIGNED_CONTEXT + _canonical(obj), signature)
    except BaselineRefused:
        raise _tampered(number, "has a signature that does not match (edited)") from None
    return record


def _from_json(obj: Any) -> tuple[Acceptance, str, bytes]:
    if type(obj) is not dict or set(obj) != {*_FIELDS, "counts"}:
        raise ValueError("fields")
    if not all(type(obj[name]) is str for name in _FIELDS):
        raise ValueError("types")
    counts = obj["counts"]
    if not _valid_counts(counts):
        raise ValueError("counts")
    record = Acceptance(
        obj["time"], obj["user"], obj["reason"], counts, obj["previous"], obj["new"], obj["key_id"]
    )
    return record, obj["prev"], bytes.fromhex(obj["sig"])


def _valid_counts(counts: Any) -> bool:
    if type(counts) is not dict or not set(counts) <= _COUNTS:
        return False
    return all(type(value) is int and value >= 0 for value in counts.values())


def _signed_line(record: Acceptance, prev: str, signer: Signer) -> bytes:
    obj: dict[str, Any] = {
        "time": record.time,
        "user": record.user,
        "reason": record.reason,
        "counts": dict(record.counts),
        "previous": record.previous,
        "new": record.new,
        "prev": prev,
        "key_id": record.key_id,
    }
    obj["sig"] = signer.sign(SIGNED_CONTEXT + _canonical(obj)).hex()
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in obj.items() if k != "sig"}, option=orjson.OPT_SORT_KEYS)


def _check_reason(reason: str) -> None:
    if not reason.strip():
        raise FimError("an update needs a reason (--reason TEXT)")
    if len(reason) > MAX_REASON:
        raise FimError(f"the reason is longer than {MAX_REASON} characters")


def _timestamp(now: Callable[[], datetime] | None) -> str:
    moment = (now or (lambda: datetime.now(UTC)))()
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _current_user() -> str:
    user = getpass.getuser()
    sudo = os.environ.get("SUDO_USER")
    return f"{user} (sudo from {sudo})" if sudo and sudo != user else user


def _tampered(number: int, what: str) -> AcceptanceLogTampered:
    return AcceptanceLogTampered(
        f"acceptance log REFUSED: line {number} {what} — do not trust this host's files until you know why"
    )
