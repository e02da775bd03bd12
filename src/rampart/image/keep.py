"""Which files' bytes an image keeps while its layers are applied, and the store that holds them.

Reading a layer is the cost of an image scan (gunzip, tar headers, digest), so the bytes the scan will ask
for are kept on the one pass that builds the tree. ``extractor_policy`` answers, from a tar entry's path,
mode and size, whether any inventory extractor would read that file (its directory and name patterns, then
its own ``wants``), plus the files read before any walk (os-release). ``KeptBytes`` holds the bytes under the
image's ``cache_bytes`` cap and counts the tree's references to each: a file overridden, whited out or
hidden by an opaque directory in a later layer gives its bytes back at once (a hard link keeps them alive).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rampart.image.tree import Dir, File, Node
from rampart.target.base import FileInfo

if TYPE_CHECKING:
    from rampart.inventory.base import Extractor

KeepPolicy = Callable[[str, int, int], bool]
"""Asked of each regular file of a layer (path, full mode, size): whether to keep its bytes."""
Key = tuple[int, int]
"""A file's bytes: (index of the layer holding them, offset of their tar member)."""
EARLY_READS = frozenset({"etc/os-release", "usr/lib/os-release"})
"""Files read before any walk (the OS is read first)."""


def keep_nothing(path: str, mode: int, size: int) -> bool:
    return False


class ExtractorPolicy:
    """Whether any of ``extractors`` would read a file, decided as the walk would, without a walk."""

    def __init__(self, extractors: Sequence[Extractor], always: frozenset[str] = EARLY_READS) -> None:
        self.extractors = tuple(extractors)
        self.always = always
        self._directories = [re.compile(e.directory_pattern, re.DOTALL).fullmatch for e in self.extractors]
        self._names = [re.compile(e.name_pattern, re.DOTALL).fullmatch for e in self.extractors]
        self._active: dict[str, tuple[int, ...]] = {}

    def _active_in(self, directory: str) -> tuple[int, ...]:
        active = self._active.get(directory)
        if active is None:
            active = tuple(i for i, matches in enumerate(self._directories) if matches(directory))
            self._active[directory] = active
        return active

    def __call__(self, path: str, mode: int, size: int) -> bool:
        if path in self.always:
            return True
        directory, _, name = path.rpartition("/")
        info: FileInfo | None = None
        for index in self._active_in(directory):
            if self._names[index](name):
                info = info or FileInfo(path, size, mode)
                if self.extractors[index].wants(info):
                    return True
        return False


def extractor_policy() -> KeepPolicy:
    """The policy for the inventory extractors of the one table (``rampart.inventory.table``)."""
    from rampart.inventory.table import EXTRACTORS

    return ExtractorPolicy(EXTRACTORS)


class KeptBytes:
    """Kept file bytes under a byte cap, each dropped once no node of the tree refers to it."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self._data: dict[Key, bytes] = {}
        self._refs: dict[Key, int] = {}

    def __contains__(self, key: Key) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Key) -> bytes | None:
        return self._data.get(key)

    def room_for(self, size: int) -> bool:
        return self.used + size <= self.cap

    def put(self, key: Key, data: bytes) -> None:
        """Keep ``data`` (unreferenced until a node ``hold``s it); nothing when it would pass the cap."""
        if key not in self._data and self.room_for(len(data)):
            self._data[key] = data
            self._refs[key] = 0
            self.used += len(data)

    def hold(self, node: File) -> None:
        """One more node of the tree reads these bytes."""
        key = (node.source, node.offset)
        if key in self._refs:
            self._refs[key] += 1

    def release(self, node: Node) -> None:
        """``node`` (and everything below it) left the tree: bytes no other node reads are dropped."""
        pending = [node]
        while pending:
            here = pending.pop()
            if isinstance(here, Dir):
                pending.extend(here.children.values())
            elif isinstance(here, File):
                key = (here.source, here.offset)
                if key in self._refs:
                    self._refs[key] -= 1
                    self.settle(key)

    def settle(self, key: Key) -> None:
        """Drop bytes no node reads (a kept entry that was never placed, or whose last node left)."""
        if self._refs.get(key, 1) <= 0:
            self.drop(key)

    def settle_all(self) -> None:
        for key in [key for key, refs in self._refs.items() if refs <= 0]:
            self.drop(key)

    def drop(self, key: Key) -> None:
        data = self._data.pop(key, None)
        self._refs.pop(key, None)
        if data is not None:
            self.used -= len(data)

    def drop_layer(self, index: int) -> None:
        """Give back every kept file of layer ``index`` (once a walk has handed them out)."""
        for key in [key for key in self._data if key[0] == index]:
            self.drop(key)
