"""Applying an image's layers, in order, to one virtual tree; and re-reading file bytes from a layer later.

Each layer blob is read once as a tar stream (``tarscan``, nothing extracted) while its digest is checked. Entry names are normalised ('./' dropped); absolute names, '..' components, bad whiteouts and
links that leave the root are per-entry errors. ``.wh.NAME`` deletes NAME from lower layers and
``.wh..wh..opq`` makes a directory opaque; later layers override earlier ones. A layer that ends early
(truncated or malformed tar) keeps the entries read before the damage and becomes a per-layer error; a
digest mismatch or a cap (entries, bytes, compression ratio) fails the whole image.

On that one pass the bytes of the files a ``KeepPolicy`` picks are kept (``keep.KeptBytes``), so a scan
needs no second pass over a layer; ``read_members`` re-reads the files it did not keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rampart.image.keep import KeepPolicy, KeptBytes, keep_nothing
from rampart.image.source import DigestMismatch, ImageSource, LayerError, LayerRef, drain
from rampart.image.stream import ImageBomb, Limits, tar_stream
from rampart.image.tarscan import Member, TarError, TarReader
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
OPAQUE = ".wh..wh..opq"
FATAL = (DigestMismatch, ImageBomb)
Read = tuple[TarReader, Member]


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


def member_stream(source: ImageSource, ref: LayerRef, limits: Limits, budget: list[int]) -> Iterator[Read]:
    """Every member of a layer, in order, then its digest checked; a damaged tar ends it with a LayerError."""
    with source.open_blob(ref.digest) as blob:
        try:
            stream, _ = tar_stream(blob, limits, budget, f"layer {ref.digest}")
            with stream:
                reader = TarReader(stream)
                while (member := reader.next()) is not None:
                    yield reader, member
                drain(stream)
        except FATAL:
            raise
        except Exception as exc:  # any decoder or tar failure ends this layer only
            drain(blob)
            raise LayerError(f"layer {short(ref.digest)} ends early: {describe(exc)}") from None
        drain(blob)
        if not reader.ended:
            raise LayerError(
                f"layer {short(ref.digest)} ends early: truncated tar (no end-of-archive marker)"
            )


@dataclass
class Applier:
    """The tree under construction, the per-entry errors met so far, and the file bytes kept on the way."""

    limits: Limits
    root: Dir = field(default_factory=lambda: Dir(0))
    errors: list[FileError] = field(default_factory=list)
    entries: int = 0
    keep: KeepPolicy = keep_nothing
    kept: KeptBytes = field(default_factory=lambda: KeptBytes(0))
    parents: dict[tuple[str, ...], Dir] = field(default_factory=dict)
    """Parent directories resolved in the current layer, by entry path; forgotten whenever a node is removed
    or replaced (the only changes that can alter what a path resolves to) and at each new layer."""
    parents_layer: int = 0

    def maybe_keep(self, layer: int, ref: LayerRef, reader: TarReader, member: Member) -> None:
        """Keep the member's bytes when ``keep`` wants its regular file and it fits the caps."""
        size = member.size
        if not member.isreg() or size > self.limits.max_file_bytes or not self.kept.room_for(size):
            return
        if self.keep("/".join(split(member.name)), member.mode | 0o100000, size):
            self.kept.put((layer, member.offset), _member_bytes(reader, member, ref))

    def apply(self, layer: int, ref: LayerRef, member: Member) -> None:
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
        finally:
            self.kept.settle((layer, member.offset))  # kept bytes no node took are dropped

    def _apply(self, layer: int, member: Member) -> None:
        parts = entry_parts(member.name)
        if not parts:
            return
        parent = self._parent(layer, tuple(parts[:-1]))
        name = parts[-1]
        if name.startswith(WHITEOUT):
            self._whiteout(parent, name, layer)
            return
        self._place(parent, name, self._node(layer, len(parts) - 1, member, parent), layer)

    def _parent(self, layer: int, parts: tuple[str, ...]) -> Dir:
        """The directory ``parts`` leads to (made as needed, links followed inside the root)."""
        if self.parents_layer != layer:
            self.parents.clear()
            self.parents_layer = layer
        found = self.parents.get(parts)
        if found is None:
            node = Resolver(self.root, create_layer=layer).walk(list(parts), follow_last=True)
            if not isinstance(node, Dir):
                raise EntryError("parent is not a directory")
            found = self.parents[parts] = node
        return found

    def _removed(self, node: Node) -> None:
        self.parents.clear()
        self.kept.release(node)

    def _whiteout(self, parent: Dir, name: str, layer: int) -> None:
        if name == OPAQUE:
            prune(parent, layer, self._removed)
            return
        hidden = name[len(WHITEOUT) :]
        if hidden in ("", ".", "..") or hidden.startswith(WHITEOUT):
            raise EntryError(f"whiteout naming {hidden!r} refused")
        old = parent.children.get(hidden)
        if old is not None and old.layer < layer:
            del parent.children[hidden]
            self._removed(old)

    def _place(self, parent: Dir, name: str, node: Node, layer: int) -> None:
        old = parent.children.get(name)
        if isinstance(old, Dir) and isinstance(node, Dir):
            old.mode, old.layer, old.uid, old.gid = node.mode, layer, node.uid, node.gid
            return
        parent.children[name] = node
        if isinstance(node, File):
            self.kept.hold(node)
        if old is None:
            return
        self._removed(old)
        if old.layer == layer and not isinstance(old, Dir):
            raise EntryError("duplicate entry in one layer; the later one is used")

    def _node(self, layer: int, depth: int, member: Member, parent: Dir) -> Node:
        node = self._new_node(layer, depth, member)
        if not member.islnk():  # a hard link shares its target's owner
            node.uid, node.gid = member.uid, member.gid
        return node

    def _new_node(self, layer: int, depth: int, member: Member) -> Node:
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
        copy: Node
        if isinstance(node, File):
            copy = File(layer, node.source, node.offset, node.size, node.mode)
        elif isinstance(node, Link):
            copy = Link(layer, node.target)
        else:
            raise EntryError(f"hard link to {target[:200]!r}, which is not a file")
        copy.uid, copy.gid = node.uid, node.gid
        return copy


def build_tree(
    source: ImageSource, layers: list[LayerRef], limits: Limits, keep: KeepPolicy = keep_nothing
) -> Applier:
    """Every layer applied: the final tree, the per-entry and per-layer errors, and the kept bytes.

    ``keep(path, mode, size)`` picks the regular files whose bytes are kept on the way (each at most
    ``max_file_bytes``, all at most ``cache_bytes``), so a later walk or read needs no second pass.
    """
    applier, budget = Applier(limits, keep=keep, kept=KeptBytes(limits.cache_bytes)), [0]
    for index, ref in enumerate(layers, start=1):
        try:
            _apply_layer(applier, index, ref, member_stream(source, ref, limits, budget))
        except LayerError as exc:
            applier.errors.append(FileError(f"layer {ref.digest}", exc.message))
        finally:
            applier.kept.settle_all()  # bytes of a member the layer's damage kept from the tree
    return applier


def _apply_layer(applier: Applier, index: int, ref: LayerRef, members: Iterator[Read]) -> None:
    """Apply each member once the next header shows its data was all there (the last one at the end marker)."""
    held: Member | None = None
    for reader, member in members:
        if held is not None:
            applier.apply(index, ref, held)
        held = member
        applier.maybe_keep(index, ref, reader, member)
    if held is not None:
        applier.apply(index, ref, held)


def _member_bytes(reader: TarReader, member: Member, ref: LayerRef) -> bytes:
    try:
        return reader.read_data(member)
    except TarError as exc:
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
    for reader, member in member_stream(source, ref, limits, [0]):
        if member.offset in left and member.isreg():
            del left[member.offset]
            keep(member.offset, _member_bytes(reader, member, ref))
