"""``fim show``: a verified baseline's header and entries as text lines or JSON lines (streamed).

Names and link targets are shown unambiguously escaped; JSON lines carry ``path_b64`` when the name's
bytes are not what its shown form says.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import orjson

from rampart.fim.baseline import Baseline
from rampart.fim.model import Entry
from rampart.fim.order import at_or_below, path_key
from rampart.report.escape import shown_bytes, unambiguous_text


def render_entries(baseline: Baseline, below: bytes | None, json_lines: bool) -> Iterator[str]:
    """The header, then each entry at or below ``below`` (every entry when None)."""
    header = baseline.header
    if json_lines:
        yield _json({"header": {**vars(header), "hash": header.hash.value, "digest": baseline.digest}})
    else:
        yield (
            f"baseline {baseline.path} of host {unambiguous_text(header.host)}, created {header.created}, "
            f"{header.entries:,} entries, {header.hash}, signed by key {header.key_id} ({header.tool})\n"
        )
    for entry in _selected(baseline.entries(), below):
        yield _json(_entry_document(entry)) if json_lines else _entry_line(entry)


def _selected(entries: Iterator[Entry], below: bytes | None) -> Iterator[Entry]:
    if below is None:
        yield from entries
        return
    prefix = path_key(below.rstrip(b"/") or b"/")
    for entry in entries:
        if at_or_below(path_key(entry.path), prefix):
            yield entry


def _entry_line(entry: Entry) -> str:
    digest = entry.digest.hex()[:16] if entry.digest else "-"
    link = f" -> {shown_bytes(entry.link)}" if entry.link is not None else ""
    error = f"  ({unambiguous_text(entry.error)})" if entry.error else ""
    fields = (
        f"{entry.kind.value} {entry.mode & 0o7777:04o} {entry.uid}:{entry.gid} {entry.size:>10} {digest:<16}"
    )
    return f"{fields} {shown_bytes(entry.path)}{link}{error}\n"


def _entry_document(entry: Entry) -> dict[str, object]:
    document: dict[str, object] = {"path": shown_bytes(entry.path)}
    if shown_bytes(entry.path) != entry.path.decode("utf-8", "replace"):
        document["path_b64"] = base64.b64encode(entry.path).decode()
    document |= {
        "type": entry.kind.value,
        "mode": f"{entry.mode & 0o7777:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
        "size": entry.size,
        "mtime_ns": entry.mtime_ns,
        "digest": entry.digest.hex() if entry.digest else None,
        "link": shown_bytes(entry.link) if entry.link is not None else None,
        "xattrs": [shown_bytes(name) for name, _ in entry.xattrs],
        "error": entry.error,
    }
    return document


def _json(document: object) -> str:
    return orjson.dumps(document).decode() + "\n"
