"""Getting one ecosystem's OSV ``all.zip`` from a source: an HTTPS server or a mirror directory.

Both lay files out as ``<base>/<Ecosystem>/all.zip``. HTTP downloads are conditional
(If-None-Match / If-Modified-Since from the previous fetch of the same URL), capped in size,
time-limited, TLS-verified (always) and checked against Content-Length and ``x-goog-hash: md5=``
before the zip's structure is checked; plain ``http://`` is accepted only for loopback hosts.
A directory mirror counts as unchanged when the file's sha256 matches the previous fetch.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from rampart.advisories.inputs import count_members, file_sha256
from rampart.advisories.progress import NO_PROGRESS, Progress
from rampart.advisories.schema import SourceMeta
from rampart.errors import ParseError, UpdateError, UsageError

if TYPE_CHECKING:
    import httpx

DEFAULT_SOURCE = "https://osv-vulnerabilities.storage.googleapis.com"
MAX_DOWNLOAD_BYTES = 2 << 30
TIMEOUT_SECONDS = 60.0
NEW, NOT_MODIFIED, MISSING = "new", "not-modified", "missing"


@dataclass(frozen=True)
class Fetched:
    """The outcome for one ecosystem: ``new`` (with a zip at ``path``), ``not-modified`` or ``missing``."""

    ecosystem: str
    location: str
    status: str
    path: Path | None = None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    size: int | None = None
    temporary: bool = False

    def source_meta(self, fetched_at: str, records: int) -> SourceMeta:
        return SourceMeta(
            self.ecosystem, self.location, fetched_at, records,
            self.etag, self.last_modified, self.sha256, self.size,
        )  # fmt: skip


class Fetcher(Protocol):
    def fetch(self, ecosystem: str, previous: SourceMeta | None) -> Fetched: ...

    def close(self) -> None: ...


def open_source(spec: str, work_dir: Path, progress: Progress = NO_PROGRESS, **options: float) -> Fetcher:
    """A fetcher for ``spec``: an ``https://`` base URL (``http://`` on loopback only) or a directory."""
    scheme = urlsplit(spec).scheme.lower()
    if scheme in ("http", "https"):
        _check_url(spec)
        return HttpFetcher(spec.rstrip("/"), work_dir, progress, **options)
    folder = Path(spec.removeprefix("file://")) if scheme in ("", "file") else None
    if folder is None or not folder.is_dir():
        raise UsageError(f"source {spec!r} is neither an http(s) URL nor a directory")
    return DirectoryFetcher(folder)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not _is_loopback(parts.hostname or ""):
        raise UsageError(f"refusing plain http for {url}: use https (http is allowed only on loopback)")


def _refuse_downgrade(request: httpx.Request) -> None:
    """Redirects may not leave TLS (except on loopback)."""
    try:
        _check_url(str(request.url))
    except UsageError as error:
        raise UpdateError(error.message) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DirectoryFetcher:
    """A local mirror laid out like the OSV bucket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def close(self) -> None:
        return None

    def fetch(self, ecosystem: str, previous: SourceMeta | None) -> Fetched:
        path = self.folder / ecosystem / "all.zip"
        location = str(path.resolve())
        if not path.is_file():
            return Fetched(ecosystem, location, MISSING)
        digest = file_sha256(path)
        if previous is not None and previous.location == location and previous.sha256 == digest:
            return Fetched(ecosystem, location, NOT_MODIFIED)
        verify_zip(path, location)
        return Fetched(ecosystem, location, NEW, path, sha256=digest, size=path.stat().st_size)


def verify_zip(path: Path, location: str) -> None:
    """Check the zip's structure and member-count cap before anything reads it."""
    try:
        count_members(path)
    except ParseError as error:
        raise UpdateError(f"{location}: downloaded data is not a usable zip ({error.message})") from None


class HttpFetcher:
    """``<base>/<Ecosystem>/all.zip`` over HTTPS, downloaded into ``work_dir``."""

    def __init__(
        self,
        base: str,
        work_dir: Path,
        progress: Progress = NO_PROGRESS,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: float = MAX_DOWNLOAD_BYTES,
    ) -> None:
        import httpx

        self.base, self.work_dir, self.progress, self.max_bytes = base, work_dir, progress, int(max_bytes)
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            verify=True,
            event_hooks={"request": [_refuse_downgrade]},
        )

    def close(self) -> None:
        self.client.close()

    def fetch(self, ecosystem: str, previous: SourceMeta | None) -> Fetched:
        import httpx

        url = f"{self.base}/{ecosystem}/all.zip"
        headers = {"Accept-Encoding": "identity", **_conditional_headers(url, previous)}
        try:
            with self.client.stream("GET", url, headers=headers, follow_redirects=True) as response:
                return self._handle(ecosystem, url, response)
        except httpx.HTTPError as error:
            raise UpdateError(f"download of {url} failed: {error or type(error).__name__}") from None

    def _handle(self, ecosystem: str, url: str, response: httpx.Response) -> Fetched:
        if response.status_code == 304:
            return Fetched(ecosystem, url, NOT_MODIFIED)
        if response.status_code == 404:
            return Fetched(ecosystem, url, MISSING)
        if response.status_code != 200:
            raise UpdateError(f"download of {url} failed: HTTP {response.status_code}")
        path, digest, size = self._download(ecosystem, url, response)
        verify_zip(path, url)
        return Fetched(
            ecosystem, url, NEW, path, response.headers.get("etag"),
            response.headers.get("last-modified"), digest, size, temporary=True,
        )  # fmt: skip

    def _download(self, ecosystem: str, url: str, response: httpx.Response) -> tuple[Path, str, int]:
        """Stream the body to a temporary file, checking size, Content-Length and md5."""
        expected = _content_length(response, url, self.max_bytes)
        fd, name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=self.work_dir)
        path = Path(name)
        try:
            sha, md5, size = self._stream_to(fd, response, url, ecosystem, expected)
            _check_integrity(url, expected, size, response, md5)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, sha, size

    def _stream_to(
        self, fd: int, response: httpx.Response, url: str, task: str, total: int | None
    ) -> tuple[str, bytes, int]:
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        self.progress.start(task, f"download {task}", total)
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > self.max_bytes:
                    raise UpdateError(f"download of {url} exceeds the limit of {self.max_bytes} bytes")
                sha.update(chunk)
                md5.update(chunk)
                out.write(chunk)
                self.progress.advance(task, len(chunk))
        self.progress.finish(task)
        return sha.hexdigest(), md5.digest(), size


def _conditional_headers(url: str, previous: SourceMeta | None) -> dict[str, str]:
    if previous is None or previous.location != url:
        return {}
    headers = {}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers


def _content_length(response: httpx.Response, url: str, cap: int) -> int | None:
    text = response.headers.get("content-length")
    if text is None:
        return None
    if not text.isdigit():
        raise UpdateError(f"download of {url}: invalid Content-Length {text[:40]!r}")
    if int(text) > cap:
        raise UpdateError(f"download of {url} is {text} bytes, over the limit of {cap}")
    return int(text)


def _check_integrity(url: str, expected: int | None, size: int, response: httpx.Response, md5: bytes) -> None:
    if expected is not None and size != expected:
        raise UpdateError(f"download of {url} is truncated: got {size} of {expected} bytes")
    wanted = _goog_md5(response)
    if wanted is not None and wanted != md5:
        raise UpdateError(f"download of {url} is corrupt: md5 does not match x-goog-hash")


def _goog_md5(response: httpx.Response) -> bytes | None:
    """The md5 in ``x-goog-hash: crc32c=...,md5=...`` (possibly several headers), if any."""
    for header in response.headers.get_list("x-goog-hash"):
        for part in header.split(","):
            kind, _, value = part.strip().partition("=")
            if kind.lower() == "md5":
                try:
                    return base64.b64decode(value, validate=True)
                except ValueError:
                    raise UpdateError(f"invalid x-goog-hash md5 value {value[:40]!r}") from None
    return None
