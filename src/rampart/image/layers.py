"""Applying an image's layers, in order, to one virtual tree; and re-reading file bytes from a layer later.

Each layer blob is read once as a tar stream (``tarfile`` in stream mode, nothing extracted) while its digest
is checked. Entry names are normalised ('./' dropped); absolute names, '..' components, bad whiteouts and
links that leave the root are per-entry errors. ``.wh.NAME`` deletes NAME from lower layers and
``.wh..wh..opq`` makes a directory opaque; later layers override earlier ones. A layer that ends early
(truncated or malformed tar) keeps the entries read before the damage and becomes a per-layer error; a
digest mismatch or a cap (entries, bytes, compression ratio) fails the whole image.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rampart.image.source import DigestMismatch, ImageSource, LayerError, LayerRef, drain
from rampart.image.stream import ImageBomb, Limits, tar_stream
from rampart.image.tree import (
    Dir,
    File,
    Link,
    Node,
    Other,
    Resolver,
    escapes,
    lookup,
    prune,
    split,
)
from rampart.model import FileError

WHITEOUT = ".wh."
PREFETCH_BYTES = 64 * 1024
OPAQUE = ".wh..wh..opq"
FATAL = (DigestMismatch, ImageBomb)
Member = tuple[tarfile.TarFile, tarfile.TarInfo]


class EntryError(Exception):
    """One tar entry that cannot be applied; the message says why."""


def describe(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]


def short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def entry_parts(name: str) -> list[str]:
    """The components of an entry name; EntryError for an absolute name or a '..' component."""
    if name.startswith("/"):
        raise EntryError("absolute entry name refused")
    parts = split(name)
    if ".." in parts:
        raise EntryError("entry name with a '..' component refused")
    return parts


def member_stream(
    source: ImageSource, ref: LayerRef, limits: Limits, budget: list[int]
) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Every member of a layer, in order, then its digest checked; a damaged tar ends it with a LayerError."""
    with source.open_blob(ref.digest) as blob:
        try:
            stream, guard = tar_stream(blob, limits, budget, f"layer {ref.digest}")
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()  # type: ignore[attr-defined]
                    yield tar, member
                end = tar.offset
            drain(stream)
        except FATAL:
            raise
        except Exception as exc:  # any decoder or tar failure ends this layer only
            drain(blob)
            raise LayerError(f"layer {short(ref.digest)} ends early: {describe(exc)}") from None
        drain(blob)
        if guard.count < end + tarfile.BLOCKSIZE:
            raise LayerError(
                f"layer {short(ref.digest)} ends early: truncated tar (no end-of-archive marker)"
            )


@dataclass
class Applier:
    """The tree under construction and the per-entry errors met so far."""

    limits: Limits
    root: Dir = field(default_factory=lambda: Dir(0))
    errors: list[FileError] = field(default_factory=list)
    entries: int = 0
    prefetch: Callable[[str], bool] | None = None
    kept: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def maybe_keep(self, layer: int, ref: LayerRef, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Keep the member's bytes when ``prefetch`` wants its (small, regular) file."""
        if self.prefetch is None or not member.isreg() or member.size > PREFETCH_BYTES:
            return
        if self.prefetch("/".join(split(member.name))):
            self.kept[(layer, member.offset)] = _member_bytes(tar, member, ref)

    def apply(self, layer: int, ref: LayerRef, member: tarfile.TarInfo) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise ImageBomb(f"image has more than {self.limits.max_entries} entries")
        try:
            self._apply(layer, member)
        except (EntryError, OSError) as exc:
            text = exc.strerror if isinstance(exc, OSError) else str(exc)
            self.errors.append(
                FileError("/" + member.name.lstrip("/")[:300], f"layer {short(ref.digest)}: {text}")
            )

    def _apply(self, layer: int, member: tarfile.TarInfo) -> None:
        parts = entry_parts(member.name)
        if not parts:
            return
        parent = Resolver(self.root, create_layer=layer).walk(parts[:-1], follow_last=True)
        if not isinstance(parent, Dir):
            raise EntryError("parent is not a directory")
        name = parts[-1]
        if name.startswith(WHITEOUT):
            self._whiteout(parent, name, layer)
            return
        self._place(parent, name, self._node(layer, len(parts) - 1, member, parent), layer)

    def _whiteout(self, parent: Dir, name: str, layer: int) -> None:
        if name == OPAQUE:
            prune(parent, layer)
            return
        hidden = name[len(WHITEOUT) :]
        if hidden in ("", ".", "..") or hidden.startswith(WHITEOUT):
            raise EntryError(f"whiteout naming {hidden!r} refused")
        old = parent.children.get(hidden)
        if old is not None and old.layer < layer:
            del parent.children[hidden]

    def _place(self, parent: Dir, name: str, node: Node, layer: int) -> None:
        old = parent.children.get(name)
        if isinstance(old, Dir) and isinstance(node, Dir):
            old.mode, old.layer = node.mode, layer
            return
        parent.children[name] = node
        if old is not None and old.layer == layer and not isinstance(old, Dir):
            raise EntryError("duplicate entry in one layer; the later one is used")

    def _node(self, layer: int, depth: int, member: tarfile.TarInfo, parent: Dir) -> Node:
        if member.isdir():
            return Dir(layer, member.mode)
        if member.isreg():
            return File(layer, layer, member.offset, member.size, member.mode | 0o100000)
        if member.issym():
            if escapes(depth, member.linkname):
                raise EntryError(f"symlink to {member.linkname[:200]!r} leads outside the image root")
            return Link(layer, member.linkname)
        if member.islnk():
            return self._hardlink(layer, member.linkname)
        return Other(layer)

    def _hardlink(self, layer: int, target: str) -> Node:
        node = lookup(self.root, "/".join(entry_parts(target.lstrip("/"))), follow_last=False)
        if isinstance(node, File):
            return File(layer, node.source, node.offset, node.size, node.mode)
        if isinstance(node, Link):
            return Link(layer, node.target)
        raise EntryError(f"hard link to {target[:200]!r}, which is not a file")


def build_tree(
    source: ImageSource, layers: list[LayerRef], limits: Limits, prefetch: Callable[[str], bool] | None = None
) -> Applier:
    """Every layer applied: the final tree, the per-entry and per-layer errors, and the prefetched bytes.

    ``prefetch(path)`` picks small files (at most PREFETCH_BYTES) whose bytes are kept on the way, so files
    read before any walk (os-release) need no second pass over their layer.
    """
    applier, budget = Applier(limits, prefetch=prefetch), [0]
    for index, ref in enumerate(layers, start=1):
        try:
            _apply_layer(applier, index, ref, member_stream(source, ref, limits, budget))
        except LayerError as exc:
            applier.errors.append(FileError(f"layer {ref.digest}", exc.message))
    return applier


def _apply_layer(applier: Applier, index: int, ref: LayerRef, members: Iterator[Member]) -> None:
    """Apply each member once the next header shows its data was all there (the last one at the end marker)."""
    held: tarfile.TarInfo | None = None
    for tar, member in members:
        if held is not None:
            applier.apply(index, ref, held)
        held = member
        applier.maybe_keep(index, ref, tar, member)
    if held is not None:
        applier.apply(index, ref, held)


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo, ref: LayerRef) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None
    try:
        return handle.read(member.size)
    except (tarfile.TarError, EOFError) as exc:
        raise LayerError(f"layer {short(ref.digest)} ends early: {describe(exc)}") from None


def read_members(
    source: ImageSource,
    ref: LayerRef,
    wanted: dict[int, int],
    limits: Limits,
    keep: Callable[[int, bytes], None],
) -> None:
    """Hand ``keep(offset, bytes)`` the bytes of each member at a ``wanted`` offset (mapped to its size)."""
    left = dict(wanted)
    for tar, member in member_stream(source, ref, limits, [0]):
        if member.offset in left and member.isreg():
            del left[member.offset]
            keep(member.offset, _member_bytes(tar, member, ref))
