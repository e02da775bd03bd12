"""The one canonical order of paths in fim: walks produce it, baselines store it, comparisons merge on it.

Paths sort by their components, so a directory sorts right before everything below it and siblings sort by
their names' bytes; a depth-first walk that sorts each directory's names yields exactly this order. The key
is the path with every ``/`` made NUL (the lowest byte, and never part of a name): comparing such keys as
bytes is comparing the components one by one, at a fraction of the cost of splitting.
"""

from __future__ import annotations

SEPARATOR = b"\x00"


def path_key(path: bytes) -> bytes:
    """The sort key of an absolute path: byte order of it equals the component order of the path."""
    return path.replace(b"/", SEPARATOR)


def at_or_below(key: bytes, parent: bytes) -> bool:
    """Whether the path of ``key`` is the path of ``parent`` or below it (both keys)."""
    return key == parent or key.startswith(parent + SEPARATOR) or parent == SEPARATOR
