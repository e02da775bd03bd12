"""Blob stores for recordings: a local directory, an S3-compatible bucket, and an in-memory one.

Keys are relative slash paths of ``[A-Za-z0-9._/-]`` (no ``..``, no empty or ``.`` segments, at most
512 characters). Every backend failure surfaces as a one-line `RecordingStoreError`; a missing blob as
`RecordingNotFound`. `open_blob_store` turns a configuration URL into a store.
"""

from __future__ import annotations

import builtins
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from rampart.durable import fsync_directory
from rampart.errors import RecordingNotFound, RecordingStoreError

MAX_KEY_LENGTH = 512
_KEY_CHARS = re.compile(r"[A-Za-z0-9._/-]+")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PROBE_PREFIX = ".probe/"


class BlobStore(Protocol):
    """Where recording segments live; `put` replaces a blob atomically."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str) -> builtins.list[str]: ...

    def probe(self) -> None: ...


def check_key(key: str) -> str:
    """Return `key` when it is a safe blob key, else raise `RecordingStoreError` saying why."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise RecordingStoreError(f"blob key must be 1 to {MAX_KEY_LENGTH} characters long")
    if not _KEY_CHARS.fullmatch(key):
        raise RecordingStoreError(f"blob key {key[:80]!r} has characters outside [A-Za-z0-9._/-]")
    if any(part in ("", ".", "..") for part in key.split("/")) or ".." in key:
        raise RecordingStoreError(f"blob key {key[:80]!r} is not a plain relative path")
    return key


def check_prefix(prefix: str) -> str:
    """Return `prefix` when it is empty or a key, possibly ending in ``/``."""
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


def one_line(exc: BaseException) -> str:
    """A backend error as one short line (no tracebacks, no newlines)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


@contextmanager
def _os_errors(what: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise RecordingNotFound(f"blob store: no {what}") from None
    except OSError as exc:
        raise RecordingStoreError(f"blob store cannot {what}: {one_line(exc)}") from None


class LocalBlobStore:
    """Blobs as files under `root`; writes go to a temporary file that is fsynced and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def put(self, key: str, data: bytes) -> None:
        path = self.root / check_key(key)
        with _os_errors(f"write {key}"):
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, data)

    def get(self, key: str) -> bytes:
        with _os_errors(f"read {check_key(key)}"):
            return (self.root / key).read_bytes()

    def list(self, prefix: str) -> builtins.list[str]:
        base = self.root / check_prefix(prefix).rpartition("/")[0]
        with _os_errors(f"list {prefix or '/'}"):
            if not base.is_dir():
                return []
            names = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
            return sorted(n for n in names if n.startswith(prefix) and _is_key(n))

    def probe(self) -> None:
        key = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
        self.put(key, b"probe")
        with _os_errors(f"delete {key}"):
            (self.root / key).unlink()


def _is_key(name: str) -> bool:
    try:
        check_key(name)
    except RecordingStoreError:
        return False
    return not name.startswith(_PROBE_PREFIX)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix="~tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


class MemoryBlobStore:
    """Blobs in a dict: for tests and for servers that keep no recordings past their lifetime."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.fail: str | None = None
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        self._check_up()
        with self._lock:
            self.blobs[check_key(key)] = bytes(data)

    def get(self, key: str) -> bytes:
        self._check_up()
        with self._lock:
            if check_key(key) not in self.blobs:
                raise RecordingNotFound(f"blob store: no {key}")
            return self.blobs[key]

    def list(self, prefix: str) -> builtins.list[str]:
        self._check_up()
        with self._lock:
            return sorted(k for k in self.blobs if k.startswith(check_prefix(prefix)))

    def probe(self) -> None:
        self._check_up()

    def _check_up(self) -> None:
        if self.fail is not None:
            raise RecordingStoreError(f"blob store unavailable: {self.fail}")


class S3BlobStore:
    """Blobs as objects in an S3-compatible bucket (path-style addressing; the AWS credential chain)."""

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        import boto3  # a heavy import: only when an S3 store is actually used
        from botocore.config import Config

        if not _BUCKET.fullmatch(bucket):
            raise RecordingStoreError(f"S3 bucket name {bucket[:80]!r} is not valid")
        self.bucket = bucket
        self.prefix = check_prefix(prefix.strip("/") + "/" if prefix.strip("/") else "")
        config = Config(
            s3={"addressing_style": "path"},
            connect_timeout=10,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        with _s3_errors("connect"):
            self._client: Any = boto3.client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )

    def __repr__(self) -> str:
        return f"S3BlobStore({self.bucket!r}, {self.prefix!r})"

    def put(self, key: str, data: bytes) -> None:
        with _s3_errors(f"write {key}"):
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + check_key(key), Body=data)

    def get(self, key: str) -> bytes:
        with _s3_errors(f"read {key}"):
            reply = self._client.get_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
            return bytes(reply["Body"].read())

    def list(self, prefix: str) -> builtins.list[str]:
        full = self.prefix + check_prefix(prefix)
        keys: list[str] = []
        with _s3_errors(f"list {prefix or '/'}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(k for k in keys if _is_key(k))

    def probe(self) -> None:
        key = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
        self.put(key, b"probe")
        with _s3_errors(f"delete {key}"):
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


@contextmanager
def _s3_errors(what: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            raise RecordingNotFound(f"blob store: no {what.partition(' ')[2]}") from None
        raise RecordingStoreError(f"S3 store cannot {what}: {one_line(exc)}") from None
    except (BotoCoreError, OSError) as exc:
        raise RecordingStoreError(f"S3 store cannot {what}: {one_line(exc)}") from None


def open_blob_store(url: str) -> BlobStore:
    """A store from a URL: a path or ``file:///abs/path`` (local) or ``s3://bucket/prefix?endpoint=&region=``."""
    if not url or url != url.strip() or "\n" in url:
        raise RecordingStoreError("blob store URL is empty or has surrounding whitespace")
    if url.startswith("s3://"):
        return _open_s3(url)
    if url.startswith("file:"):
        return LocalBlobStore(_file_url_path(url))
    if "://" in url:
        raise RecordingStoreError(f"blob store URL scheme is not file or s3: {url.split('://')[0][:20]!r}")
    return LocalBlobStore(Path(url))


def _file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.query:
        raise RecordingStoreError("file blob store URL must look like file:///absolute/path")
    return Path(unquote(parts.path))


def _open_s3(url: str) -> BlobStore:
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = set(query) - {"endpoint", "region"}
    if unknown or any(len(v) != 1 for v in query.values()) or parts.fragment:
        raise RecordingStoreError("s3 blob store URL takes only one endpoint= and one region= parameter")
    endpoint = query.get("endpoint", [None])[0]
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise RecordingStoreError("s3 blob store endpoint must be an http:// or https:// URL")
    region = query.get("region", [None])[0] or None
    return S3BlobStore(parts.netloc, unquote(parts.path), endpoint or None, region)
