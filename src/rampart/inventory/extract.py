"""Handing files to the extractors that want them; one bad file becomes a FileError, never a stop."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rampart.errors import RampartError
from rampart.inventory.base import ExtractContext, Extractor, location
from rampart.model import FileError, Package
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


def extract_files(
    files: Iterable[FileInfo],
    target: Target,
    extractors: Sequence[Extractor],
    context: ExtractContext,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Package], int]:
    """The packages the extractors find in ``files``, and how many files there were."""
    packages: list[Package] = []
    seen = 0
    for seen, info in enumerate(files, start=1):
        for extractor in extractors:
            if extractor.wants(info):
                packages.extend(_extract(extractor, info, target, context))
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(seen)
    return packages, seen
