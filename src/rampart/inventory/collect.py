"""collect_inventory: one walk of a target, each file handed to the extractors that want it.

The OS is read first (``osrelease``) so extractors can use it. Every exception raised while extracting
one file becomes a ``FileError(path, one-line message)`` and the walk carries on; errors the target met
while walking (unreadable directories) are included. Identical packages are listed once; packages are
sorted by ecosystem, name, version and location, errors by path. On an image, each package names the layer
that brought it (``Package.layer``), before anyone hears of it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from rampart.inventory.base import ExtractContext, Extractor
from rampart.inventory.extract import WalkFilter, extract_files
from rampart.inventory.osrelease import read_os_release
from rampart.inventory.table import EXTRACTORS
from rampart.model import Inventory, Package
from rampart.target.base import PartitionedTarget, Target

MAX_WORKERS = 4


def default_workers() -> int:
    """One walker per CPU this process may use, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _safe_to_fork() -> bool:
    """Forking copies only the calling thread: with others running (locks held), walk in-process instead."""
    return threading.active_count() == 1


def _extract_all(
    target: Target,
    extractors: Sequence[Extractor],
    context: ExtractContext,
    workers: int,
    progress: Callable[[int], None] | None,
    found: Callable[[list[Package]], None] | None,
) -> tuple[list[Package], int]:
    if workers > 1 and isinstance(target, PartitionedTarget) and _safe_to_fork():
        from rampart.inventory.parallel import extract_in_parallel

        return extract_in_parallel(target, extractors, context, workers, progress, found)
    packages = extract_files(target.walk(WalkFilter(extractors)), target, extractors, context, progress)
    if found is not None:
        found(packages)
    return packages, target.files_walked


def _layer_namer(target: Target) -> Callable[[Package], Package] | None:
    """On an image, a function giving each package the digest of the layer that brought it; else None.

    The image modules are not loaded for other targets: an image target exists only once they are.
    """
    image = sys.modules.get("rampart.image.target")
    if image is None or not isinstance(target, image.ImageTarget):
        return None
    from rampart.image.attribution import layer_of_package

    named: dict[Package, Package] = {}

    def name_layer(package: Package) -> Package:
        if package not in named:
            named[package] = replace(package, layer=layer_of_package(target, package))
        return named[package]

    return name_layer


def _naming_layers(
    found: Callable[[list[Package]], None] | None, name_layer: Callable[[Package], Package]
) -> Callable[[list[Package]], None] | None:
    """``found``, hearing packages with their layers named."""
    if found is None:
        return None
    return lambda packages: found([name_layer(p) for p in packages])


def _sort_key(package: Package) -> tuple[str, str, str, str, str]:
    return (package.ecosystem, package.name, package.version, package.location, package.extractor)


def collect_inventory(
    target: Target,
    progress: Callable[[int], None] | None = None,
    extractors: Sequence[Extractor] = EXTRACTORS,
    workers: int | None = None,
    found: Callable[[list[Package]], None] | None = None,
) -> Inventory:
    """Every package the extractors find on ``target``, with the per-file errors met on the way.

    A partitioned target is walked by ``workers`` processes (default: one per CPU, see ``parallel``).
    ``found`` hears packages as they are found, before the walk ends (a scan matches them meanwhile);
    it may hear a package that the returned inventory lists once more than once.
    """
    os_release, os_errors = read_os_release(target)
    context = ExtractContext(os=os_release, errors=list(os_errors))
    jobs = default_workers() if workers is None else workers
    name_layer = _layer_namer(target)
    if name_layer is not None:
        found = _naming_layers(found, name_layer)
    packages, seen = _extract_all(target, extractors, context, jobs, progress, found)
    if name_layer is not None:
        packages = [name_layer(p) for p in packages]
    if progress is not None:
        progress(seen)
    errors = sorted({*context.errors, *target.errors}, key=lambda e: (e.path, e.message))
    return Inventory(
        target=target.name,
        os=os_release,
        packages=tuple(sorted(set(packages), key=_sort_key)),
        errors=tuple(errors),
        files_seen=seen,
    )
