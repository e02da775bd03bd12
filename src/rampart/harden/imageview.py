"""`ImageView`: a SystemView over an opened container image, read through its virtual tree (never extracted).

Paths resolve inside the image's final tree (links too: an absolute link restarts at the image root, a link
that climbs out of it is an error). There is no runtime and no kernel; ``image_config`` is the image's config
document (``config.User``, ``config.Env``, ``config.Labels``, ...). ``references`` are the names the image goes
by (its registry reference, or a docker save tarball's tags) and ``annotations`` its manifest's annotations,
for checks that judge where an image comes from.

Checks read many small configuration files. Re-streaming a layer for each would cost a pass over the layer
per file, so the first read of a file the image did not keep fetches, in one pass per layer, every small
regular file below the configuration directories (``PREFETCH_ROOTS``, up to ``PREFETCH_BYTES`` in all).
"""

from __future__ import annotations

import fnmatch
import stat as statmod
from collections.abc import Iterator, Mapping
from functools import cached_property, partial
from typing import Any

from rampart.errors import RampartError
from rampart.harden.runtime import Runtime
from rampart.harden.view import IMAGE, MAX_TEXT_BYTES, EntryFilter, Stat, ViewError
from rampart.image.layers import read_members
from rampart.image.source import ImageError, LayerError
from rampart.image.target import ImageTarget
from rampart.image.tree import Dir, File, Link, Node, lookup, split

MAX_CACHED_BYTES = 32 << 20
PREFETCH_ROOTS = (
    "/etc", "/boot", "/usr/lib/sysctl.d", "/usr/lib/modprobe.d", "/usr/lib/systemd/system",
    "/lib/sysctl.d", "/lib/modprobe.d", "/lib/systemd/system",
)  # fmt: skip
PREFETCH_FILE_BYTES = 256 << 10
PREFETCH_BYTES = 32 << 20


class ImageView:
    """A read-only view of an image's filesystem and config; the caller keeps ``image`` open while it is used."""

    def __init__(self, image: ImageTarget, name: str | None = None) -> None:
        self.image = image
        self._name = name or image.name
        self._texts: dict[str, str] = {}
        self._cached = 0
        self._fetched: dict[tuple[int, int], bytes] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def kind(self) -> str:
        return IMAGE

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({"image"})

    @property
    def runtime(self) -> Runtime | None:
        return None

    @property
    def image_config(self) -> Mapping[str, Any] | None:
        return self.image.source.config()

    @cached_property
    def annotations(self) -> Mapping[str, str]:
        found = self.image.source.manifest().get("annotations")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @cached_property
    def references(self) -> tuple[str, ...]:
        """The registry reference the image was pulled by, else the tags a docker save tarball gives it."""
        source = self.image.source
        if getattr(source, "reference", None) is not None:
            return (source.name,)
        tags = source.manifest().get("RepoTags")
        return tuple(str(tag) for tag in tags) if isinstance(tags, list) else ()

    @property
    def _root(self) -> Dir:
        return self.image.tree

    def _lookup(self, path: str, follow: bool) -> Node | None:
        try:
            return lookup(self._root, path, follow_last=follow)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ViewError(f"{path}: {exc.strerror or exc}") from None

    def stat(self, path: str, follow: bool = True) -> Stat | None:
        node = self._lookup(path, follow)
        return None if node is None else _stat(path, node)

    def read_text(self, path: str) -> str | None:
        if path in self._texts:
            return self._texts[path]
        node = self._lookup(path, True)
        if node is None:
            return None
        if not isinstance(node, File):
            raise ViewError(f"{path}: not a regular file")
        if node.size > MAX_TEXT_BYTES:
            raise ViewError(f"{path}: larger than {MAX_TEXT_BYTES >> 20} MiB, not read")
        return self._remember(path, self._bytes(path, node).decode("utf-8", errors="replace"))

    def _bytes(self, path: str, node: File) -> bytes:
        if self._fetched is None:
            self._fetched = self._prefetch()
        data = self._fetched.get((node.source, node.offset))
        if data is not None:
            return data
        try:
            return self.image.read_bytes(path, MAX_TEXT_BYTES)
        except OSError as exc:
            raise ViewError(f"{path}: {exc.strerror or exc}") from None
        except RampartError as exc:
            raise ViewError(f"{path}: {exc.message}") from None

    def _prefetch(self) -> dict[tuple[int, int], bytes]:
        """The small files below ``PREFETCH_ROOTS``, read in one pass per layer (a damaged layer is skipped:
        its files are then read one by one, which reports the damage)."""
        fetched: dict[tuple[int, int], bytes] = {}
        for index, wanted in self._prefetch_plan().items():
            keep = partial(_store, fetched, index)
            try:
                read_members(self.image.source, self.image.layers[index - 1], wanted, self.image.limits, keep)
            except (ImageError, LayerError):
                continue
        return fetched

    def _prefetch_plan(self) -> dict[int, dict[int, int]]:
        """Per layer index, the member offsets (and sizes) of the files worth fetching at once."""
        plan: dict[int, dict[int, int]] = {}
        room = PREFETCH_BYTES
        for node in self._small_files():
            if node.size <= room and node.offset not in plan.setdefault(node.source, {}):
                plan[node.source][node.offset] = node.size
                room -= node.size
        return plan

    def _small_files(self) -> Iterator[File]:
        for root in PREFETCH_ROOTS:
            try:
                start = self._lookup(root, True)
            except ViewError:  # a link loop or one leaving the image: nothing to fetch there
                continue
            pending = [start] if isinstance(start, Dir) else []
            while pending:
                for child in pending.pop().children.values():
                    if isinstance(child, Dir):
                        pending.append(child)
                    elif isinstance(child, File) and child.size <= PREFETCH_FILE_BYTES:
                        yield child

    def _remember(self, path: str, text: str) -> str:
        if self._cached + len(text) <= MAX_CACHED_BYTES:
            self._texts[path] = text
            self._cached += len(text)
        return text

    def listdir(self, path: str) -> list[str] | None:
        node = self._lookup(path, True)
        return sorted(node.children) if isinstance(node, Dir) else None

    def glob(self, pattern: str) -> list[str]:
        found = ["/"]
        for part in split(pattern):
            found = [match for base in found for match in self._matches(base, part)]
        return sorted(found)

    def _matches(self, base: str, part: str) -> list[str]:
        if not any(char in part for char in "*?["):
            return [_join(base, part)] if self._exists(_join(base, part)) else []
        names = self.listdir(base) or []
        hidden_ok = part.startswith(".")
        return [
            _join(base, name) for name in fnmatch.filter(names, part) if hidden_ok or not name.startswith(".")
        ]

    def _exists(self, path: str) -> bool:
        try:
            return self._lookup(path, False) is not None
        except ViewError:
            return False

    def walk(self, keep: EntryFilter | None = None) -> Iterator[Stat]:
        pending: list[tuple[str, Dir]] = [("/", self._root)]
        while pending:
            directory, node = pending.pop()
            for name, child in node.children.items():
                path = _join(directory, name)
                found = _stat(path, child)
                if keep is None or keep(_raw_mode(found), found.uid or 0, found.gid or 0):
                    yield found
                if isinstance(child, Dir):
                    pending.append((path, child))

    def __repr__(self) -> str:
        return f"ImageView({self.name!r})"


_TYPE_BITS = {"file": statmod.S_IFREG, "dir": statmod.S_IFDIR, "link": statmod.S_IFLNK, "other": 0}


def _raw_mode(found: Stat) -> int:
    return _TYPE_BITS[found.kind] | found.mode


def _stat(path: str, node: Node) -> Stat:
    if isinstance(node, File):
        return Stat(path, "file", statmod.S_IMODE(node.mode), node.uid, node.gid, node.size)
    if isinstance(node, Dir):
        return Stat(path, "dir", statmod.S_IMODE(node.mode), node.uid, node.gid)
    if isinstance(node, Link):
        return Stat(path, "link", 0o777, node.uid, node.gid, len(node.target), node.target)
    return Stat(path, "other", 0, node.uid, node.gid)


def _store(fetched: dict[tuple[int, int], bytes], index: int, offset: int, data: bytes) -> None:
    fetched[(index, offset)] = data


def _join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name
