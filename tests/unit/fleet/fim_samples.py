"""Small file integrity results for the server-side tests: changes whose state is named by a size."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from rampart.fim.model import Attr, AttrChange, Cause, Change, ChangeKind, CheckResult, Entry, Kind
from rampart.fleet.fimresult import FimResult, build_fim_result, parse_fim_result

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BASELINE = {"created": "2025-12-31T00:00:00Z", "digest": "ab" * 32, "key_id": "k-1"}


def changed(path: bytes, size: int, cause: Cause = Cause.UNEXPLAINED, package: str | None = None) -> Change:
    """``path`` changed to a state of ``size`` bytes (equal sizes: equal states, equal fingerprints)."""
    before = Entry(path, Kind.FILE, mode=0o644, size=1)
    after = Entry(path, Kind.FILE, mode=0o644, size=size)
    attrs = (AttrChange(Attr.SIZE, "1", str(size)),)
    return Change(path, ChangeKind.CHANGED, attrs, before, after, cause, package)


def removed(path: bytes) -> Change:
    return Change(path, ChangeKind.REMOVED, (), Entry(path, Kind.FILE), None)


def fim_bytes(
    changes: list[Change],
    collected_at: datetime = T0,
    *,
    errors: tuple[tuple[bytes, str], ...] = (),
    refused: str | None = None,
    result_id: str | None = None,
    job_id: str | None = None,
) -> bytes:
    """The upload an agent would send."""
    result = None if refused is not None else CheckResult(tuple(changes), errors, entries=100)
    baseline = {} if refused is not None else BASELINE
    return build_fim_result(
        result, baseline, result_id or str(uuid.uuid4()), job_id, collected_at, refused=refused
    )


def fim_result(changes: list[Change], collected_at: datetime = T0, **options: object) -> FimResult:
    return parse_fim_result(fim_bytes(changes, collected_at, **options))  # type: ignore[arg-type]
