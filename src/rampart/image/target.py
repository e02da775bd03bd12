"""ImageTarget: an image's final filesystem as a read-only Target, built from its layers without extracting.

The layers are applied to a virtual tree once, when the target is opened; on that one pass the bytes of
the files the inventory extractors will read are kept (``keep``: at most ``max_file_bytes`` each and
``cache_bytes`` in all, given back when a later layer overrides the file). A walk then yields the regular
files layer by layer from those bytes; only files it wants that were not kept (the cap was reached, or a
caller's filter asks for more than the policy kept) make it stream that layer once more, and a layer's
bytes are dropped once its files are handed out, so memory follows the cap, not the image. Any other read
re-streams the layer that holds the file. ``layer_of`` names the layer that brought a file.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from rampart.errors import LimitExceeded
from rampart.image.archive import open_archive
from rampart.image.keep import KeepPolicy, extractor_policy
from rampart.image.layers import build_tree, read_members
from rampart.image.layout import LayoutDirectory, OciImage
from rampart.image.source import ImageError, ImageSource, LayerError, LayerRef, Platform
from rampart.image.stream import Limits
from rampart.image.tree import Dir, File, Node, lookup
from rampart.model import FileError
from rampart.target.base import DirectoryFilter, FileInfo

if TYPE_CHECKING:
    from rampart.image.registry import RegistrySource

Located = tuple[str, File]


class ImageTarget:
    """The filesystem an image's layers make, read straight from the image's blobs."""

    def __init__(
        self,
        source: ImageSource,
        limits: Limits | None = None,
        keep: KeepPolicy | None = None,
    ) -> None:
        """``keep`` picks the files whose bytes are kept while the layers are applied (default: the files
        the inventory extractors read, and os-release)."""
        self.source = source
        self.limits = limits or Limits()
        self.layers: list[LayerRef] = source.layers()
        built = build_tree(source, self.layers, self.limits, extractor_policy() if keep is None else keep)
        self._root, self._errors, self._kept = built.root, built.errors, built.kept
        self._cache: dict[tuple[int, int], bytes] = {}
        self.files_walked = 0
        self.layers_reread = 0
        self._pending: tuple[int, list[File]] | None = None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def errors(self) -> tuple[FileError, ...]:
        return tuple(self._errors)

    @property
    def tree(self) -> Dir:
        """The image's merged virtual tree (metadata only: modes, owners, link targets), for read-only views."""
        return self._root

    def walk(self, wanted: DirectoryFilter | None = None) -> Iterator[FileInfo]:
        """Every regular file of the final tree (``wanted`` ones only), grouped by the layer holding its bytes."""
        by_layer: dict[int, list[Located]] = {}
        for path, node in self._files(wanted):
            by_layer.setdefault(node.source, []).append((path, node))
        for index in sorted(by_layer):
            yield from self._layer_files(index, by_layer[index])

    def _files(self, wanted: DirectoryFilter | None) -> Iterator[Located]:
        pending: list[tuple[str, Dir]] = [("", self._root)]
        while pending:
            rel, directory = pending.pop()
            named = wanted(rel) if wanted is not None else None
            prefix = rel + "/" if rel else ""
            for name, node in directory.children.items():
                if isinstance(node, Dir):
                    pending.append((prefix + name, node))
                elif isinstance(node, File):
                    self.files_walked += 1
                    if named is None or named(name):
                        yield prefix + name, node

    def _layer_files(self, index: int, files: list[Located]) -> Iterator[FileInfo]:
        """The layer's files; the first read of one whose bytes were not kept fetches all such at once."""
        missing = [node for _, node in files if (node.source, node.offset) not in self._kept]
        self._pending = (index, missing) if missing else None
        try:
            for path, node in files:
                yield FileInfo(path, node.size, node.mode)
        finally:
            self._pending = None
            self._cache.clear()
            self._kept.drop_layer(index)

    def _fetch_pending(self, node: File) -> None:
        """Stream the walked layer again for its files not kept, once, when one of them is first read."""
        if self._pending is not None and self._pending[0] == node.source:
            index, missing = self._pending
            self._pending = None
            self._fill_cache(index, missing)

    def _fill_cache(self, index: int, nodes: list[File]) -> None:
        """Stream layer ``index`` once more for the walked files not kept, as many as the cap leaves room for."""
        wanted: dict[int, int] = {}
        room = self.limits.cache_bytes - self._kept.used
        for node in sorted(nodes, key=lambda n: n.size):
            if node.size <= min(room, self.limits.max_file_bytes):
                wanted[node.offset] = node.size
                room -= node.size
        if not wanted:
            return
        self.layers_reread += 1
        try:
            read_members(self.source, self.layers[index - 1], wanted, self.limits, partial(self._keep, index))
        except (ImageError, LayerError) as exc:  # files not kept are read again one by one
            self._layer_error(index, exc.message)

    def _layer_error(self, index: int, message: str) -> None:
        path = f"layer {self.layers[index - 1].digest}"
        if not any(error.path == path for error in self._errors):
            self._errors.append(FileError(path, message))

    def _keep(self, index: int, offset: int, data: bytes) -> None:
        self._cache[(index, offset)] = data

    def _node(self, path: str) -> File:
        node: Node = lookup(self._root, path)
        if not isinstance(node, File):
            raise OSError(errno.EINVAL, "not a regular file")
        return node

    def _bytes(self, node: File) -> bytes:
        data = self._held(node)
        if data is None:
            self._fetch_pending(node)
            data = self._held(node)
        if data is not None:
            return data
        if node.size > self.limits.max_file_bytes:
            raise LimitExceeded(f"file is larger than the {self.limits.max_file_bytes}-byte in-memory cap")
        found: list[bytes] = []
        read_members(
            self.source,
            self.layers[node.source - 1],
            {node.offset: node.size},
            self.limits,
            lambda _, data: found.append(data),
        )
        if not found:
            raise OSError(errno.EIO, "file content lies past the damaged end of its layer")
        return found[0]

    def _held(self, node: File) -> bytes | None:
        key = (node.source, node.offset)
        data = self._cache.get(key)
        return self._kept.get(key) if data is None else data

    def open(self, path: str) -> BinaryIO:
        """The file's bytes (links resolved inside the image root) as an in-memory stream."""
        return io.BytesIO(self._bytes(self._node(path)))

    def read_bytes(self, path: str, limit: int) -> bytes:
        node = self._node(path)
        if node.size > limit:
            raise LimitExceeded(f"file is larger than the {limit}-byte limit")
        return self._bytes(node)

    def layer_of(self, path: str) -> str:
        """The digest of the layer that brought the file at ``path`` (the final one, after overrides)."""
        return self.layers[self._node(path).layer - 1].digest

    def names(self, directory: str) -> frozenset[str]:
        """The names in a directory of the final tree (none when it is missing or no directory)."""
        try:
            node = lookup(self._root, directory)
        except OSError:
            return frozenset()
        return frozenset(node.children) if isinstance(node, Dir) else frozenset()

    def close(self) -> None:
        """Release the image's open files (an archive stays open while the target is in use)."""
        closer = getattr(self.source, "close", None)
        if closer is not None:
            closer()

    def __enter__(self) -> ImageTarget:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ImageTarget({self.name!r})"


def open_image(
    ref: str | os.PathLike[str],
    platform: Platform | None = None,
    tag: str | None = None,
    limits: Limits | None = None,
    insecure: bool = False,
) -> ImageTarget:
    """The image at a local path (OCI layout directory, oci-archive, docker save tarball) or in a registry."""
    path = Path(ref)
    if path.is_dir():
        return ImageTarget(OciImage(LayoutDirectory(os.fspath(path)), platform), limits)
    if path.is_file() or _looks_like_reference(os.fspath(ref)):
        opened = open_archive if path.is_file() else partial(_registry, insecure=insecure)
        source = opened(os.fspath(ref), platform, tag)
        try:
            return ImageTarget(source, limits)
        except BaseException:
            source.close()
            raise
    raise ImageError(
        f"image {os.fspath(ref)!r} does not exist (expected an OCI layout directory, a tarball "
        "or a registry reference host/repo:tag)"
    )


def _looks_like_reference(text: str) -> bool:
    """Whether ``text`` names a registry image (the registry client, and httpx, load only then)."""
    from rampart.image.registry import looks_like_reference

    return looks_like_reference(text)


def _registry(ref: str, platform: Platform | None, _tag: str | None, insecure: bool) -> RegistrySource:
    from rampart.image.registry import open_registry_image

    return open_registry_image(ref, platform, insecure)
