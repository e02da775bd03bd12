"""collect_inventory: one walk of a target, each file handed to the extractors that want it.

The OS is read first (``osrelease``) so extractors can use it. Every exception raised while extracting
one file becomes a ``FileError(path, one-line message)`` and the walk carries on; errors the target met
while walking (unreadable directories) are included. Identical packages are listed once; packages are
sorted by ecosystem, name, version and location, errors by path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rampart.errors import RampartError
from rampart.inventory.base import ExtractContext, Extractor, location
from rampart.inventory.osrelease import read_os_release
from rampart.inventory.table import EXTRACTORS
from rampart.model import FileError, Inventory, Package
from rampart.target.base import FileInfo, Target
from rampart.target.directory import describe_os_error

PROGRESS_EVERY = 5000


def describe(exc: BaseException) -> str:
    """A one-line message for an exception raised while reading one file."""
    if isinstance(exc, RampartError):
        text = exc.message
    elif isinstance(exc, OSError):
        text = f"cannot read: {describe_os_error(exc)}"
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def _extract(extractor: Extractor, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
    try:
        return extractor.extract(info, target, context)
    except Exception as exc:  # one bad file must never stop the scan
        context.errors.append(FileError(location(info.path), f"{extractor.name}: {describe(exc)}"))
        return []


def _walk(
    target: Target,
    extractors: Iterable[Extractor],
    context: ExtractContext,
    progress: Callable[[int], None] | None,
) -> tuple[list[Package], int]:
    packages: list[Package] = []
    seen = 0
    chosen = tuple(extractors)
    for seen, info in enumerate(target.walk(), start=1):
        for extractor in chosen:
            if extractor.wants(info):
                packages.extend(_extract(extractor, info, target, context))
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen)
    return packages, seen


def _sort_key(package: Package) -> tuple[str, str, str, str, str]:
    return (package.ecosystem, package.name, package.version, package.location, package.extractor)


def collect_inventory(
    target: Target,
    progress: Callable[[int], None] | None = None,
    extractors: Iterable[Extractor] = EXTRACTORS,
) -> Inventory:
    """Every package the extractors find on ``target``, with the per-file errors met on the way."""
    os_release, os_errors = read_os_release(target)
    context = ExtractContext(os=os_release, errors=list(os_errors))
    packages, seen = _walk(target, extractors, context, progress)
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
