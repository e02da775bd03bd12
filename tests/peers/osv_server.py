"""A loopback OSV query server for differential tests: ``/v1/query``, ``/v1/querybatch``, ``/v1/vulns/{id}``.

It answers from OSV ``all.zip`` files the way api.osv.dev does, so that a peer tool (pip-audit) can
be pointed at it and judged on the same data rampart uses. It is deliberately independent of
rampart: matching follows the OSV schema's own algorithm, with ``packaging.version`` for PyPI.

Semantics (OSV schema 1.x, "Evaluation"):
- a record applies to a package when one of its ``affected`` entries names the same ecosystem and
  package (PyPI names compared after PEP 503 normalisation);
- a version is affected when it equals an entry of ``affected[].versions`` or falls in an
  ``ECOSYSTEM`` range (``SEMVER`` ranges are evaluated the same way, ``GIT`` ranges never match a
  version); events are sorted by version, ``introduced`` opens, ``fixed`` closes (exclusive) and
  ``last_affected`` closes (inclusive); ``limit`` events cap the range;
- a range whose bounds do not parse as versions of the ecosystem cannot be evaluated and never
  matches (recorded in ``OsvIndex.unparseable`` so tests can keep such packages out of samples);
- withdrawn records are returned like any other (clients such as pip-audit filter them);
- timestamps are served in RFC 3339 UTC form (``2023-07-03T13:15:00Z``) as api.osv.dev serialises them:
  some records in the zip carry the YAML-ish form ``2023-07-03 13:15:00+00:00``.

Only PyPI has a version scheme here; a query for another ecosystem with a version gets HTTP 400.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

Record = dict[str, Any]


class UnsupportedQuery(ValueError):
    """A query this server cannot answer faithfully (HTTP 400)."""


def rfc3339(stamp: str) -> str:
    """Any ISO 8601 timestamp as RFC 3339 UTC with a ``Z`` (fractional seconds only when present)."""
    moment = datetime.fromisoformat(stamp).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def normalise_name(ecosystem: str, name: str) -> str:
    return canonicalize_name(name) if ecosystem == "PyPI" else name


def parse_version(ecosystem: str, text: str) -> Version:
    if ecosystem != "PyPI":
        raise UnsupportedQuery(f"no version scheme for ecosystem {ecosystem!r}")
    return Version(text)


def _event_key(ecosystem: str, event: dict[str, str]) -> tuple[int, Version | None]:
    ((kind, value),) = event.items()
    if kind == "introduced" and value == "0":
        return (0, None)
    if kind == "limit" and value == "*":
        return (2, None)
    return (1, parse_version(ecosystem, value))


def range_affects(ecosystem: str, events: list[dict[str, str]], version: Version) -> bool:
    """OSV's evaluation of one ECOSYSTEM/SEMVER range; raises InvalidVersion on unparseable bounds."""
    keyed = sorted(((_event_key(ecosystem, e), e) for e in events), key=_sort_key)
    limits = [k for k, e in keyed if "limit" in e]
    if limits and not any(k[0] == 2 or (k[1] is not None and version < k[1]) for k in limits):
        return False
    affected = False
    for (rank, bound), event in keyed:
        if "introduced" in event and (rank == 0 or (bound is not None and version >= bound)):
            affected = True
        elif bound is not None and _closes(event, bound, version):
            affected = False
    return affected


def _closes(event: dict[str, str], bound: Version, version: Version) -> bool:
    """``fixed`` closes at the bound (exclusive), ``last_affected`` just after it (inclusive)."""
    return ("fixed" in event and version >= bound) or ("last_affected" in event and version > bound)


def _sort_key(item: tuple[tuple[int, Version | None], dict[str, str]]) -> tuple[int, Version | int]:
    (rank, bound), _ = item
    return (rank, bound if bound is not None else 0) if rank == 1 else (rank, 0)


class OsvIndex:
    """OSV records from zips, indexed by (ecosystem, normalised name)."""

    def __init__(self, zips: Iterable[Path]) -> None:
        self.records: dict[str, Record] = {}
        self.by_package: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.unparseable: set[tuple[str, str, str]] = set()  # (record id, ecosystem, name)
        for path in zips:
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    if member.endswith(".json"):
                        self._add(json.loads(archive.read(member)))

    def _add(self, record: Record) -> None:
        for key in ("published", "modified", "withdrawn"):
            if key in record:
                record[key] = rfc3339(record[key])
        self.records[record["id"]] = record
        seen = set()
        for affected in record.get("affected", []):
            pkg = affected.get("package", {})
            key = (pkg.get("ecosystem", ""), normalise_name(pkg.get("ecosystem", ""), pkg.get("name", "")))
            if key not in seen:
                seen.add(key)
                self.by_package[key].append(record["id"])

    def query(self, ecosystem: str, name: str, version: str | None) -> list[Record]:
        """Records affecting ``name`` at ``version`` (all records naming the package when version is None)."""
        wanted = normalise_name(ecosystem, name)
        parsed = parse_version(ecosystem, version) if version is not None else None
        hits = []
        for vuln_id in self.by_package.get((ecosystem, wanted), []):
            record = self.records[vuln_id]
            if parsed is None or self._affects(record, ecosystem, wanted, parsed):
                hits.append(record)
        return hits

    def _affects(self, record: Record, ecosystem: str, name: str, version: Version) -> bool:
        return any(
            self._entry_affects(record["id"], entry, ecosystem, version)
            for entry in self._entries(record, ecosystem, name)
        )

    @staticmethod
    def _entries(record: Record, ecosystem: str, name: str) -> Iterator[Record]:
        for entry in record.get("affected", []):
            pkg = entry.get("package", {})
            if pkg.get("ecosystem") == ecosystem and normalise_name(ecosystem, pkg.get("name", "")) == name:
                yield entry

    def _entry_affects(self, vuln_id: str, entry: Record, ecosystem: str, version: Version) -> bool:
        for text in entry.get("versions", []):
            try:
                if parse_version(ecosystem, text) == version:
                    return True
            except InvalidVersion:
                continue
        for rng in entry.get("ranges", []):
            if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue
            try:
                if range_affects(ecosystem, rng.get("events", []), version):
                    return True
            except InvalidVersion:
                self.unparseable.add((vuln_id, ecosystem, entry["package"]["name"]))
        return False

    def has_unparseable_bounds(self, ecosystem: str, name: str) -> bool:
        """True when a record naming the package has a range bound that is not a version of the ecosystem."""
        wanted = normalise_name(ecosystem, name)
        for vuln_id in self.by_package.get((ecosystem, wanted), []):
            for entry in self._entries(self.records[vuln_id], ecosystem, wanted):
                for rng in entry.get("ranges", []):
                    if rng.get("type") in ("ECOSYSTEM", "SEMVER") and not _bounds_parse(ecosystem, rng):
                        return True
        return False


def _bounds_parse(ecosystem: str, rng: Record) -> bool:
    try:
        for event in rng.get("events", []):
            _event_key(ecosystem, event)
    except InvalidVersion:
        return False
    return True


def _query_target(query: Record) -> tuple[str, str, str | None]:
    if "commit" in query:
        raise UnsupportedQuery("commit queries are not supported")
    pkg = query.get("package") or {}
    version = query.get("version")
    if "purl" in pkg:
        return _from_purl(pkg["purl"], version)
    if not pkg.get("name") or not pkg.get("ecosystem"):
        raise UnsupportedQuery("package.name and package.ecosystem are required")
    return pkg["ecosystem"], pkg["name"], version


def _from_purl(purl: str, version: str | None) -> tuple[str, str, str | None]:
    if not purl.startswith("pkg:pypi/"):
        raise UnsupportedQuery(f"unsupported purl {purl!r}")
    rest = purl[len("pkg:pypi/") :].split("?", 1)[0].split("#", 1)[0]
    name, _, purl_version = rest.partition("@")
    if purl_version and version:
        raise UnsupportedQuery("version given twice")
    return "PyPI", name, purl_version or version


class _Handler(BaseHTTPRequestHandler):
    index: OsvIndex
    requests_seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        prefix = "/v1/vulns/"
        if not self.path.startswith(prefix):
            return self._send(404, {"code": 5, "message": "Not Found"})
        record = self.index.records.get(self.path[len(prefix) :])
        if record is None:
            return self._send(404, {"code": 5, "message": "Bug not found."})
        return self._send(200, record)

    def do_POST(self) -> None:
        self.requests_seen.append(self.path)
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if self.path == "/v1/query":
                return self._send(200, self._answer(body, full=True))
            if self.path == "/v1/querybatch":
                results = [self._answer(q, full=False) for q in body.get("queries", [])]
                return self._send(200, {"results": results})
            return self._send(404, {"code": 5, "message": "Not Found"})
        except (UnsupportedQuery, InvalidVersion, ValueError, AttributeError) as exc:
            return self._send(400, {"code": 3, "message": str(exc)})

    def _answer(self, query: Record, *, full: bool) -> Record:
        hits = self.index.query(*_query_target(query))
        if not hits:
            return {}
        if full:
            return {"vulns": hits}
        return {"vulns": [{"id": r["id"], "modified": r["modified"]} for r in hits]}

    def _send(self, status: int, payload: Record) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve(index: OsvIndex) -> Iterator[tuple[str, list[str]]]:
    """Serve ``index`` on 127.0.0.1 (a free port) in a thread; yields (base URL, paths of POSTs seen)."""
    seen: list[str] = []
    handler = type("Handler", (_Handler,), {"index": index, "requests_seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="osv-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
