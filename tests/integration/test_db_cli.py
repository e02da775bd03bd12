"""``rampart db`` run for real: updates over a loopback HTTP server and from a mirror directory,
conditional requests, damaged and interrupted downloads, imports, and status."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from rampart.advisories.db import AdvisoryDB

RUN = "from rampart.cli.main import run; run()"


def rampart(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAMPART_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


class OsvHandler(BaseHTTPRequestHandler):
    """Serves ``<root>/<Ecosystem>/all.zip`` like the OSV bucket; ``mode`` injects faults."""

    root: ClassVar[Path]
    mode: ClassVar[str] = "ok"
    etag_salt: ClassVar[str] = ""
    requests: ClassVar[list[tuple[str, dict[str, str]]]] = []
    release: ClassVar[threading.Event] = threading.Event()
    sent_partial: ClassVar[threading.Event] = threading.Event()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        type(self).requests.append((self.path, dict(self.headers)))
        match = re.fullmatch(r"/([A-Za-z0-9:._-]+)/all\.zip", self.path)
        path = self.root / match.group(1) / "all.zip" if match else None
        if path is None or not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}{self.etag_salt}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send(body, etag, formatdate(path.stat().st_mtime, usegmt=True))

    def _send(self, body: bytes, etag: str, modified: str) -> None:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        if self.mode in ("corrupt", "corrupt-nohash"):
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        if self.mode != "corrupt-nohash":
            self.send_header("x-goog-hash", f"crc32c=AAAAAA==,md5={md5}")
        self.end_headers()
        if self.mode in ("truncate", "stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            type(self).sent_partial.set()
            if self.mode == "stall":
                self.release.wait(60)
            return
        self.wfile.write(body)


@pytest.fixture
def server(vulndata_dir: Path) -> Iterator[tuple[str, type[OsvHandler]]]:
    class Handler(OsvHandler):
        pass

    handler: type[OsvHandler] = Handler
    handler.root = vulndata_dir / "osv"
    handler.requests = []
    handler.release = threading.Event()
    handler.sent_partial = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    handler.release.set()
    httpd.shutdown()
    httpd.server_close()


def status(cache: Path) -> dict[str, Any]:
    result = rampart("db", "status", "--format", "json", cache=cache)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def go_answers(cache: Path) -> int:
    with AdvisoryDB.open(cache / "advisories.sqlite3") as db:
        return len(db.advisories_for("Go", "stdlib"))


def test_update_over_http_then_not_modified(server: tuple[str, type[OsvHandler]], cache_dir: Path) -> None:
    url, handler = server
    first = rampart("db", "update", "--source", url, cache=cache_dir)
    assert first.returncode == 0, first.stderr
    assert "updated 20,212 records from 3 sources" in first.stdout
    assert "warning: no Ubuntu data" in first.stderr and "warning: no npm data" in first.stderr
    info = status(cache_dir)
    assert info["counts"] == {"Debian": 8841, "Go": 4291, "PyPI": 7080}
    assert info["withdrawn"] == 286
    pypi = next(s for s in info["sources"] if s["key"] == "PyPI")
    assert pypi["etag"] and pypi["last_modified"] and len(pypi["sha256"]) == 64
    assert pypi["location"] == f"{url}/PyPI/all.zip"
    before = (cache_dir / "advisories.sqlite3").read_bytes()

    handler.requests.clear()
    second = rampart("db", "update", "--source", url, cache=cache_dir)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    conditional = {p: h.get("If-None-Match") for p, h in handler.requests}
    assert conditional["/PyPI/all.zip"] == pypi["etag"]
    assert (cache_dir / "advisories.sqlite3").read_bytes() == before


def test_one_changed_ecosystem_keeps_the_others(
    server: tuple[str, type[OsvHandler]], cache_dir: Path
) -> None:
    url, handler = server
    assert (
        rampart(
            "db", "update", "--source", url, "--ecosystem", "Go", "--ecosystem", "PyPI", cache=cache_dir
        ).returncode
        == 0
    )
    handler.etag_salt = "-v2"  # Go and PyPI both "change"; only Go is asked for
    result = rampart("db", "update", "--source", url, "--ecosystem", "Go", cache=cache_dir)
    assert result.returncode == 0, result.stderr
    assert "updated 4,291 records from 1 source" in result.stdout
    assert status(cache_dir)["counts"] == {"Go": 4291, "PyPI": 7080}


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("corrupt", "md5 does not match x-goog-hash"),
        ("corrupt-nohash", "(not a usable zip|corrupt zip member|CRC)"),
        ("truncate", "(truncated|failed)"),
    ],
)
def test_damaged_download_fails_and_old_database_still_answers(
    server: tuple[str, type[OsvHandler]], cache_dir: Path, mode: str, message: str
) -> None:
    url, handler = server
    assert rampart("db", "update", "--source", url, "--ecosystem", "Go", cache=cache_dir).returncode == 0
    before = (cache_dir / "advisories.sqlite3").read_bytes()
    handler.mode, handler.etag_salt = mode, "-changed"
    result = rampart("db", "update", "--source", url, "--ecosystem", "Go", cache=cache_dir)
    assert result.returncode == 2
    assert re.search(rf"^rampart: error: .*{message}", result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert (cache_dir / "advisories.sqlite3").read_bytes() == before
    assert go_answers(cache_dir) > 100
    assert sorted(p.name for p in cache_dir.iterdir()) == ["advisories.sqlite3"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_update_leaves_the_old_database(
    server: tuple[str, type[OsvHandler]], cache_dir: Path, sig: signal.Signals
) -> None:
    url, handler = server
    assert rampart("db", "update", "--source", url, "--ecosystem", "Go", cache=cache_dir).returncode == 0
    before = (cache_dir / "advisories.sqlite3").read_bytes()
    handler.mode, handler.etag_salt = "stall", "-changed"
    env = {**os.environ, "RAMPART_CACHE_DIR": str(cache_dir)}
    args = [sys.executable, "-c", RUN, "db", "update", "--source", url, "--ecosystem", "Go"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert handler.sent_partial.wait(30)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    assert (cache_dir / "advisories.sqlite3").read_bytes() == before
    assert go_answers(cache_dir) > 100
    if sig == signal.SIGINT:  # a clean exit also removes the partial download
        assert "Traceback" not in stderr
        assert sorted(p.name for p in cache_dir.iterdir()) == ["advisories.sqlite3"]


def test_update_from_mirror_directory(vulndata_dir: Path, cache_dir: Path) -> None:
    mirror = str(vulndata_dir / "osv")
    result = rampart(
        "db", "update", "--source", mirror, "--ecosystem", "PyPI", "--ecosystem", "Debian", cache=cache_dir
    )
    assert result.returncode == 0, result.stderr
    assert "updated 15,921 records from 2 sources" in result.stdout
    again = rampart(
        "db", "update", "--source", mirror, "--ecosystem", "PyPI", "--ecosystem", "Debian", cache=cache_dir
    )
    assert "up to date" in again.stdout
    assert status(cache_dir)["counts"] == {"Debian": 8841, "PyPI": 7080}


def test_plain_http_to_a_remote_host_is_refused(cache_dir: Path) -> None:
    result = rampart("db", "update", "--source", "http://example.invalid", cache=cache_dir)
    assert result.returncode == 2
    assert "refusing plain http" in result.stderr


def test_import_zip_folder_and_single_record(vulndata_dir: Path, cache_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "records"
    (folder / "nested").mkdir(parents=True)
    (folder / "LOCAL-1.json").write_text(
        json.dumps({"id": "LOCAL-1", "modified": "2024-01-01T00:00:00Z",
                    "affected": [{"package": {"ecosystem": "PyPI", "name": "My.Pkg"}}]})
    )  # fmt: skip
    (folder / "nested" / "LOCAL-2.yaml").write_text(
        "id: LOCAL-2\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: npm, name: left-pad}\n"
    )
    (folder / "broken.json").write_text("{")
    single = tmp_path / "GO-LOCAL.json"
    single.write_text(json.dumps({"id": "GO-LOCAL", "modified": "2024-01-01T00:00:00Z"}))
    result = rampart(
        "db",
        "import",
        str(vulndata_dir / "osv" / "Go" / "all.zip"),
        str(folder),
        str(single),
        cache=cache_dir,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "imported 4,294 records from 3 sources; skipped 1 malformed (1 not JSON)"
    )
    info = status(cache_dir)
    assert info["counts"] == {"Go": 4291, "PyPI": 1, "npm": 1}
    assert info["total"] == 4294
    with AdvisoryDB.open(cache_dir / "advisories.sqlite3") as db:
        assert [a.id for a in db.advisories_for("PyPI", "my-pkg")] == ["LOCAL-1"]
        assert db.get("GO-LOCAL") is not None


def test_import_of_a_missing_path_changes_nothing(cache_dir: Path, tmp_path: Path) -> None:
    result = rampart("db", "import", str(tmp_path / "absent.zip"), cache=cache_dir)
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert list(cache_dir.iterdir()) == []


def test_import_of_a_bad_zip_is_one_clear_error(cache_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("A.json", "{}")
    bad.write_bytes(bad.read_bytes()[:30])
    result = rampart("db", "import", str(bad), cache=cache_dir)
    assert result.returncode == 2
    assert result.stderr.startswith("rampart: error: ") and "not a readable zip" in result.stderr
    assert list(cache_dir.iterdir()) == []


def test_status_without_a_database(cache_dir: Path) -> None:
    result = rampart("db", "status", cache=cache_dir)
    assert result.returncode == 2
    assert "run `rampart db update` or `rampart db import`" in result.stderr


def test_status_is_json_when_piped_and_a_table_on_request(vulndata_dir: Path, cache_dir: Path) -> None:
    assert (
        rampart("db", "import", str(vulndata_dir / "osv" / "Go" / "all.zip"), cache=cache_dir).returncode == 0
    )
    piped = rampart("db", "status", cache=cache_dir)
    assert piped.returncode == 0
    assert json.loads(piped.stdout)["counts"] == {"Go": 4291}
    result = rampart("db", "status", "--format", "table", cache=cache_dir)
    assert result.returncode == 0
    assert "schema     1" in result.stdout
    assert re.search(r"Go\s+.\s+4,291", result.stdout)
