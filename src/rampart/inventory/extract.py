"""Handing files to the extractors that want them; one bad file becomes a FileError, never a stop.

The walk asks a ``WalkFilter`` about every directory, and the name test it gets back about every file
in it: a file that no extractor's ``directory_pattern`` and ``name_pattern`` both match is passed over
without building a FileInfo, calling ``wants`` or stat'ing it (most files of a host).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from rampart.errors import RampartError
from rampart.inventory.base import ExtractContext, Extractor, location
from rampart.model import FileError, Package
from rampart.target.base import FileInfo, NameFilter, Target
from rampart.target.directory import describe_os_error

PROGRESS_EVERY = 500


def _nothing(name: str) -> bool:
    return False


class WalkFilter:
    """Per directory, one compiled name test for the extractors whose ``directory_pattern`` matches it."""

    def __init__(self, extractors: Sequence[Extractor]) -> None:
        self._directories = [re.compile(e.directory_pattern, re.DOTALL).fullmatch for e in extractors]
        self._names = [e.name_pattern for e in extractors]
        self._tests: dict[tuple[int, ...], NameFilter] = {(): _nothing}

    def __call__(self, directory: str) -> NameFilter:
        active = tuple(i for i, matches in enumerate(self._directories) if matches(directory))
        test = self._tests.get(active)
        if test is None:
            pattern = "|".join(f"(?:{self._names[i]})" for i in active)
            test = self._tests[active] = re.compile(pattern, re.DOTALL).fullmatch
        return test


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
