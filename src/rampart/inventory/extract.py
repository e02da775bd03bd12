"""Handing files to the extractors that want them; one bad file becomes a FileError, never a stop.

The walk asks ``path_filter`` about every file first: a path no extractor's ``path_pattern`` matches is
passed over without building a FileInfo, calling ``wants`` or stat'ing it (most files of a host).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from rampart.errors import RampartError
from rampart.inventory.base import ExtractContext, Extractor, location
from rampart.model import FileError, Package
from rampart.target.base import FileInfo, PathFilter, Target
from rampart.target.directory import describe_os_error

PROGRESS_EVERY = 500


def path_filter(extractors: Sequence[Extractor]) -> PathFilter:
    """One compiled test of a relative path against every extractor's ``path_pattern``."""
    return re.compile("|".join(f"(?:{e.path_pattern})" for e in extractors), re.DOTALL).fullmatch


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
) -> list[Package]:
    """The packages the extractors find in ``files``; ``progress`` hears the target's walked-file count."""
    packages: list[Package] = []
    for index, info in enumerate(files, start=1):
        for extractor in extractors:
            if extractor.wants(info):
                packages.extend(_extract(extractor, info, target, context))
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(target.files_walked)
    return packages
