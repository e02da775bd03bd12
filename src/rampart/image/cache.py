"""The on-disk layer cache: blobs stored by digest, written to a temporary file and kept only once verified.

A cached file is hashed again before it is handed out and removed when its bytes no longer match its name,
so a damaged or altered cache file is fetched anew rather than trusted. The cache is kept under a byte cap
by dropping the least recently used blobs.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from rampart.image.source import digest_hex, verifying

DEFAULT_MAX_BYTES = 10 * 1024 * 1024 * 1024
CHUNK = 1 << 20


def default_layer_dir() -> Path:
    """``$RAMPART_CACHE_DIR/layers``, else under ``$XDG_CACHE_HOME/rampart``, else ``~/.cache/rampart``."""
    explicit = os.environ.get("RAMPART_CACHE_DIR")
    if explicit:
        return Path(explicit) / "layers"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rampart" / "layers"


class LayerCache:
    """Blobs on disk by sha256 digest, under ``max_bytes`` in all."""

    def __init__(self, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root or default_layer_dir()
        self.max_bytes = max_bytes

    def path(self, digest: str) -> Path:
        return self.root / "sha256" / digest_hex(digest)

    def open(self, digest: str, size: int | None = None) -> BinaryIO | None:
        """The cached blob as a verifying stream, or None when it is absent or its bytes do not match."""
        path = self.path(digest)
        if not _matches(path, digest_hex(digest)):
            path.unlink(missing_ok=True)
            return None
        os.utime(path)
        return verifying(path.open("rb"), digest, size)

    def store(self, digest: str, size: int | None, stream: BinaryIO) -> BinaryIO:
        """Copy ``stream`` into the cache, checking ``digest`` as it goes; the stored blob, opened."""
        path = self.path(digest)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out, verifying(stream, digest, size) as checked:
                while chunk := checked.read(CHUNK):
                    out.write(chunk)
            Path(temp).replace(path)
        finally:
            Path(temp).unlink(missing_ok=True)
        self.prune(keep=path)
        return verifying(path.open("rb"), digest, size)

    def prune(self, keep: Path | None = None) -> None:
        """Drop the least recently used blobs (never ``keep``) until the cache is under its cap."""
        files = sorted(_blobs(self.root / "sha256"), key=lambda item: item[1].st_mtime)
        total = sum(info.st_size for _, info in files)
        for path, info in files:
            if total <= self.max_bytes:
                return
            if path != keep:
                path.unlink(missing_ok=True)
                total -= info.st_size


def _blobs(directory: Path) -> list[tuple[Path, os.stat_result]]:
    try:
        names = [path for path in directory.iterdir() if not path.name.startswith(".")]
    except FileNotFoundError:
        return []
    return [(path, path.stat()) for path in names if path.is_file()]


def _matches(path: Path, want: str) -> bool:
    sha = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
    except (FileNotFoundError, IsADirectoryError):
        return False
    return sha.hexdigest() == want
