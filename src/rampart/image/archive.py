"""Image tarballs read in place: ``oci-archive`` (an OCI layout inside a tar) and ``docker save`` output.

The outer tar is indexed once (member name -> data offset and size) and members are then read as slices of
the file with ``pread``: nothing is extracted. Links between members (older ``docker save`` shares layers
that way) are followed by name inside the archive only.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

from rampart.image.layout import OciImage
from rampart.image.source import (
    ImageError,
    LayerRef,
    Platform,
    digest_hex,
    read_json_blob,
    verifying,
)
from rampart.image.stream import Limits, tar_stream

MAX_MEMBERS = 100_000
MAX_LINK_HOPS = 8


class _Slice(io.RawIOBase):
    """``size`` bytes of an open file from ``offset`` on, read with pread."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        super().__init__()
        self.fd, self.position, self.end = fd, offset, offset + size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = os.pread(self.fd, min(len(view), self.end - self.position), self.position)
        self.position += len(data)
        view[: len(data)] = data
        return len(data)


def _clean(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class TarStore:
    """The members of an uncompressed tar file, by name, read as slices."""

    def __init__(self, path: str) -> None:
        self.name = path
        self._file: BinaryIO | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            self._file = Path(path).open("rb")  # noqa: SIM115 - held for the image's life
            with tarfile.open(path, "r:") as archive:
                self._index(archive)
        except (OSError, tarfile.TarError, EOFError) as exc:
            self.close()
            raise ImageError(f"{path}: not a readable image tarball: {exc}") from None

    def _index(self, archive: tarfile.TarFile) -> None:
        for count, member in enumerate(archive, start=1):
            if count > MAX_MEMBERS:
                raise ImageError(f"{self.name}: more than {MAX_MEMBERS} members")
            self._members[_clean(member.name)] = member

    def has(self, name: str) -> bool:
        return _clean(name) in self._members

    def open_file(self, name: str) -> BinaryIO:
        member = self._resolve(_clean(name))
        return io.BufferedReader(_Slice(self._fileno(), member.offset_data, member.size), 1 << 16)

    def _fileno(self) -> int:
        if self._file is None or self._file.closed:
            raise ImageError(f"{self.name}: the image is closed")
        return self._file.fileno()

    def _resolve(self, name: str) -> tarfile.TarInfo:
        for _ in range(MAX_LINK_HOPS):
            member = self._members.get(name)
            if member is None:
                raise ImageError(f"{self.name}: no member {name!r}")
            if member.isfile():
                return member
            if not (member.issym() or member.islnk()):
                raise ImageError(f"{self.name}: member {name!r} is not a regular file")
            base = posixpath.dirname(name) if member.issym() else ""
            name = _clean(posixpath.join(base, member.linkname))
        raise ImageError(f"{self.name}: too many links to reach member {name!r}")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class DockerSave:
    """One image of a ``docker save`` tarball (``manifest.json`` naming a config file and layer files)."""

    def __init__(self, store: TarStore, tag: str | None = None, limits: Limits | None = None) -> None:
        self.store, self.name, self.limits = store, store.name, limits or Limits()
        self._entry = self._choose(self._read_manifest(), tag)
        self._config = self._read_config()
        self._paths = self._layer_paths()

    def _read_manifest(self) -> list[dict[str, Any]]:
        document = read_json_blob(
            self._wrap(self.store.open_file("manifest.json")), f"{self.name}: manifest.json"
        )
        entries = document["images"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries) or not entries:
            raise ImageError(f"{self.name}: manifest.json lists no images")
        return entries

    @staticmethod
    def _wrap(stream: BinaryIO) -> BinaryIO:
        """manifest.json is a JSON array; read_json_blob wants an object."""
        return io.BytesIO(b'{"images":' + stream.read(4 * 1024 * 1024 + 1) + b"}")

    def _choose(self, entries: list[dict[str, Any]], tag: str | None) -> dict[str, Any]:
        if tag is None and len(entries) == 1:
            return entries[0]
        for entry in entries:
            if tag is not None and tag in (entry.get("RepoTags") or []):
                return entry
        tags = ", ".join(str(t) for e in entries for t in (e.get("RepoTags") or ["<untagged>"]))
        raise ImageError(f"{self.name}: choose one image of the tarball (available: {tags})")

    def _read_config(self) -> dict[str, Any]:
        path = self._entry.get("Config")
        if not isinstance(path, str):
            raise ImageError(f"{self.name}: manifest.json names no Config")
        stream = self.store.open_file(path)
        hexpart = posixpath.basename(path).removesuffix(".json")
        if len(hexpart) == 64:
            stream = verifying(stream, "sha256:" + hexpart)
        return read_json_blob(stream, f"{self.name}: config {path}")

    def _layer_paths(self) -> list[tuple[str, str]]:
        paths = self._entry.get("Layers")
        rootfs = self._config.get("rootfs")
        diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        if not isinstance(paths, list) or not isinstance(diff_ids, list) or len(paths) != len(diff_ids):
            raise ImageError(f"{self.name}: manifest.json Layers and config diff_ids do not match")
        for digest in diff_ids:
            digest_hex(str(digest))
        return list(zip((str(d) for d in diff_ids), (str(p) for p in paths), strict=True))

    def close(self) -> None:
        self.store.close()

    def manifest(self) -> dict[str, Any]:
        return self._entry

    def config(self) -> dict[str, Any]:
        return self._config

    def layers(self) -> list[LayerRef]:
        return [LayerRef(digest, "application/x-tar", 0) for digest, _ in self._paths]

    def open_blob(self, digest: str) -> BinaryIO:
        """The layer's uncompressed tar, checked against its diff_id (layers may be stored compressed)."""
        path = dict(self._paths)[digest]
        stream, _ = tar_stream(self.store.open_file(path), self.limits, [0], f"layer {digest}")
        return verifying(stream, digest)


def open_archive(
    path: str, platform: Platform | None = None, tag: str | None = None
) -> OciImage | DockerSave:
    """The image in an ``oci-archive`` or ``docker save`` tarball (an OCI layout inside wins)."""
    store = TarStore(path)
    try:
        if store.has("oci-layout") and store.has("index.json"):
            return OciImage(store, platform)
        if store.has("manifest.json"):
            return DockerSave(store, tag)
    except BaseException:
        store.close()
        raise
    store.close()
    raise ImageError(f"{path}: neither an oci-archive nor a docker save tarball")
