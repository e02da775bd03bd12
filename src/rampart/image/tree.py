"""The virtual tree of an image: nodes built from layer entries, and path resolution that never leaves it.

Nodes are directories, regular files (remembering where their bytes are: layer index and tar member offset),
symlinks (kept as metadata, resolved only inside the tree), and other entries (devices, FIFOs). Resolution
goes one component at a time: an absolute link restarts at the image root, ``..`` above the root is an
error, and more than ``MAX_LINK_HOPS`` links is a loop.
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable

MAX_LINK_HOPS = 40


class Node:
    """Any entry; ``layer`` is the index of the last layer that wrote or passed through it; ``uid``/``gid``
    its owner as the tar entry says (None for a directory no entry named, made on the way to a deeper one)."""

    __slots__ = ("gid", "layer", "uid")

    def __init__(self, layer: int) -> None:
        self.layer = layer
        self.uid: int | None = None
        self.gid: int | None = None


class Dir(Node):
    __slots__ = ("children", "mode")

    def __init__(self, layer: int, mode: int = 0o755) -> None:
        super().__init__(layer)
        self.children: dict[str, Node] = {}
        self.mode = mode


class File(Node):
    """A regular file; its bytes are the tar member at ``offset`` of layer ``source`` (``layer`` brought it)."""

    __slots__ = ("mode", "offset", "size", "source")

    def __init__(self, layer: int, source: int, offset: int, size: int, mode: int) -> None:
        super().__init__(layer)
        self.source, self.offset, self.size, self.mode = source, offset, size, mode


class Link(Node):
    __slots__ = ("target",)

    def __init__(self, layer: int, target: str) -> None:
        super().__init__(layer)
        self.target = target


class Other(Node):
    """A device node, FIFO or anything else that is never read."""

    __slots__ = ()


def ResolveError(code: int, text: str) -> OSError:  # noqa: N802 - reads like the exception it makes
    """A path that cannot be resolved inside the tree: an OSError of the errno's own class (FileNotFoundError...)."""
    return OSError(code, text)


def split(path: str) -> list[str]:
    """The components of a path, empty ones and '.' dropped ('..' kept)."""
    return [part for part in path.split("/") if part and part != "."]


def escapes(depth: int, target: str) -> bool:
    """Whether a link ``target`` read in a directory ``depth`` levels down climbs above the root, lexically."""
    level = 0 if target.startswith("/") else depth
    for part in split(target):
        level += -1 if part == ".." else 1
        if level < 0:
            return True
    return False


class Resolver:
    """One resolution: the stack of directories from the root to where it stands."""

    def __init__(self, root: Dir, create_layer: int | None = None) -> None:
        self.stack = [root]
        self.hops = 0
        self.create_layer = create_layer

    def _follow(self, link: Link, pending: deque[str]) -> None:
        self.hops += 1
        if self.hops > MAX_LINK_HOPS:
            raise ResolveError(errno.ELOOP, "too many levels of symbolic links")
        if link.target.startswith("/"):
            del self.stack[1:]
        pending.extendleft(reversed(split(link.target)))

    def _enter(self, name: str) -> Node | None:
        here = self.stack[-1]
        child = here.children.get(name)
        if child is None and self.create_layer is not None:
            child = here.children[name] = Dir(self.create_layer)
        if child is not None and self.create_layer is not None:
            child.layer = max(child.layer, self.create_layer)
        return child

    def walk(self, parts: list[str], follow_last: bool) -> Node:
        """The node at ``parts`` (the root for none); links followed, the last one only if ``follow_last``."""
        pending = deque(parts)
        node: Node = self.stack[-1]
        while pending:
            name = pending.popleft()
            if name == "..":
                if len(self.stack) == 1:
                    raise ResolveError(errno.EXDEV, "a link leads outside the image root")
                self.stack.pop()
                node = self.stack[-1]
                continue
            node = self._step(name, pending, follow_last)
        return node

    def _step(self, name: str, pending: deque[str], follow_last: bool) -> Node:
        child = self._enter(name)
        if child is None:
            raise ResolveError(errno.ENOENT, "no such file or directory")
        if isinstance(child, Link) and (pending or follow_last):
            self._follow(child, pending)
            return self.stack[-1]
        if isinstance(child, Dir):
            self.stack.append(child)
        elif pending:
            raise ResolveError(errno.ENOTDIR, "not a directory")
        return child


def lookup(root: Dir, path: str, follow_last: bool = True) -> Node:
    """The node at ``path`` in the tree; ResolveError when there is none inside the root."""
    return Resolver(root).walk(split(path), follow_last)


def _ignore(node: Node) -> None:
    return None


def prune(directory: Dir, layer: int, removed: Callable[[Node], None] = _ignore) -> None:
    """Make ``directory`` opaque: drop everything below it that lower layers brought (each told to ``removed``)."""
    pending = [directory]
    while pending:
        here = pending.pop()
        for name, child in list(here.children.items()):
            if child.layer < layer:
                del here.children[name]
                removed(child)
            elif isinstance(child, Dir):
                pending.append(child)
