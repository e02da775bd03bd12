"""The ``rampart.fim.check/1`` JSON document of a check (schema in docs/fim.md). Pure: result in, text out.

Every name is shown unambiguously escaped (``path``); when that differs from the name's bytes read as
UTF-8, ``path_b64`` carries the exact bytes. The summary counts exactly the changes listed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from rampart.fim.model import Change, CheckResult
from rampart.fim.outcome import exit_status, summarise
from rampart.report.escape import shown_bytes, unambiguous_text

SCHEMA = "rampart.fim.check/1"


def render_fim_json(result: CheckResult, shown: Sequence[Change], now: datetime, strict: bool = False) -> str:
    """The check as one indented JSON document ending with a newline."""
    summary = summarise(result, shown)
    document = {
        "schema": SCHEMA,
        "checked_at": now.isoformat(),
        "baseline_created": result.baseline_created,
        "entries": result.entries,
        "hashed": result.hashed,
        "summary": {
            **summary.by_kind,
            "total": summary.total,
            "by_cause": summary.by_cause,
            "hidden": summary.hidden,
            "unreadable": summary.unreadable,
        },
        "exit_status": exit_status(result, strict),
        "changes": [_change(change) for change in shown],
        "unreadable": [{**_path(path), "error": unambiguous_text(error)} for path, error in result.errors],
        "notes": [unambiguous_text(note) for note in result.notes],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def _path(path: bytes) -> dict[str, str]:
    shown = shown_bytes(path)
    exact = path.decode("utf-8", "replace")
    return {"path": shown} if shown == exact else {"path": shown, "path_b64": base64.b64encode(path).decode()}


def _change(change: Change) -> dict[str, Any]:
    return {
        **_path(change.path),
        "change": change.kind.value,
        "cause": change.cause.value,
        "package": change.package,
        "note": None if change.note is None else unambiguous_text(change.note),
        "type": {
            "before": None if change.before is None else change.before.kind.value,
            "after": None if change.after is None else change.after.kind.value,
        },
        "attributes": [
            {"name": a.attr.value, "before": unambiguous_text(a.before), "after": unambiguous_text(a.after)}
            for a in change.attrs
        ],
    }
