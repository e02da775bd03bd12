"""The one canonical order of paths in fim: walks produce it, baselines store it, comparisons merge on it.

A path's key is its components, so a directory sorts right before everything below it and siblings sort by
their names' bytes; a depth-first walk that sorts each directory's names yields exactly this order.
"""

from __future__ import annotations


def path_key(path: bytes) -> tuple[bytes, ...]:
    """The sort key of an absolute path: its ``/``-separated components."""
    return tuple(path.split(b"/"))
