"""OCI image layouts: a directory (``oci-layout``, ``index.json``, ``blobs/sha256/...``) or any store like it.

``OciImage`` walks the index down to one image manifest (through nested indexes, choosing by platform) and
reads its config and layer list; ``LayoutDirectory`` is the store for a directory. Blob files are opened
without following links and only when they are regular files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from rampart.image.manifests import INDEX_TYPES, descriptor, layer_refs, pick
from rampart.image.source import (
    ImageError,
    LayerRef,
    Platform,
    digest_hex,
    read_json_blob,
    verifying,
)

MAX_NESTING = 4


class BlobStore(Protocol):
    """Named files of a layout (``index.json``, ``oci-layout``) and its blobs, unverified."""

    name: str

    def open_file(self, name: str) -> BinaryIO: ...


def _is_index(entry: dict[str, Any], document: dict[str, Any] | None = None) -> bool:
    media = entry.get("mediaType") or (document or {}).get("mediaType")
    return media in INDEX_TYPES


class OciImage:
    """One image of an OCI layout store, chosen by ``platform`` when the index lists several."""

    def __init__(self, store: BlobStore, platform: Platform | None = None) -> None:
        self.store = store
        self.platform = platform
        self.name = store.name
        self._sizes: dict[str, int] = {}
        self._manifest = self._choose(self._read_index(), 0)
        self._config = self._read_config()

    def _read_index(self) -> dict[str, Any]:
        return read_json_blob(self.store.open_file("index.json"), f"{self.name}: index.json")

    def _choose(self, index: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > MAX_NESTING:
            raise ImageError(f"{self.name}: image indexes nest deeper than {MAX_NESTING}")
        entries = index.get("manifests")
        if not isinstance(entries, list) or not entries:
            raise ImageError(f"{self.name}: the image index lists no manifests")
        entry = self._pick([descriptor(e, f"{self.name}: image index") for e in entries])
        self._sizes[entry["digest"]] = entry["size"]
        document = read_json_blob(self.open_blob(entry["digest"]), f"{self.name}: manifest {entry['digest']}")
        if _is_index(entry, document):
            return self._choose(document, depth + 1)
        return document

    def _pick(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return pick(self.name, entries, self.platform)

    def _read_config(self) -> dict[str, Any]:
        config = descriptor(self._manifest.get("config"), f"{self.name}: manifest")
        self._sizes[config["digest"]] = config["size"]
        return read_json_blob(self.open_blob(config["digest"]), f"{self.name}: config")

    def close(self) -> None:
        closer = getattr(self.store, "close", None)
        if closer is not None:
            closer()

    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def config(self) -> dict[str, Any]:
        return self._config

    def layers(self) -> list[LayerRef]:
        layers = layer_refs(self.name, self._manifest)
        self._sizes.update((layer.digest, layer.size) for layer in layers)
        return layers

    def open_blob(self, digest: str) -> BinaryIO:
        name = f"blobs/sha256/{digest_hex(digest)}"
        return verifying(self.store.open_file(name), digest, self._sizes.get(digest))


class LayoutDirectory:
    """The files of an OCI layout directory; only regular files, never through a link."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.name = root
        if not (Path(root) / "oci-layout").is_file():
            raise ImageError(f"{root}: not an OCI image layout (no oci-layout file)")

    def open_file(self, name: str) -> BinaryIO:
        fd = self._open(name)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ImageError(f"{self.root}: {name} is not a regular file")
        return os.fdopen(fd, "rb")

    def _open(self, name: str) -> int:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            return os.open(Path(self.root) / name, flags)
        except OSError as exc:
            raise ImageError(f"{self.root}: cannot open {name}: {exc.strerror or exc}") from None
