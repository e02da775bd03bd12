"""Walking a partitioned target with several worker processes at once.

The parent cuts the tree a few levels down (``PartitionedTarget.partition``), extracts the files above
the cut itself, and hands the subtrees to forked workers one at a time; each worker walks its subtree,
runs the extractors on its files and sends back packages, per-file errors and a file count. Workers are
forked, so they inherit the target, the extractors and the OS read before the walk: only a subtree name
goes in and plain results come out. The parent must run no other threads when it forks (the CLI's
progress display refreshes from the parent's own thread for that reason).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rampart.inventory.base import ExtractContext, Extractor
from rampart.inventory.extract import WalkFilter, extract_files
from rampart.model import FileError, OsRelease, Package
from rampart.target.base import DirectoryFilter, PartitionedTarget


@dataclass(frozen=True)
class _Job:
    """What every worker needs; set in the parent just before forking."""

    target: PartitionedTarget
    extractors: tuple[Extractor, ...]
    wanted: DirectoryFilter
    os: OsRelease | None


@dataclass(frozen=True)
class _Batch:
    """One subtree's result."""

    packages: list[Package]
    errors: list[FileError]
    seen: int


_JOB: _Job | None = None


def _run_subtree(rel: str) -> _Batch:
    job = _JOB
    assert job is not None, "worker started without a job"
    context = ExtractContext(os=job.os)
    target = job.target
    errors_before, walked_before = len(target.errors), target.files_walked
    packages = extract_files(target.walk_from(rel, job.wanted), target, job.extractors, context)
    errors = context.errors + list(target.errors[errors_before:])
    return _Batch(packages, errors, target.files_walked - walked_before)


def extract_in_parallel(
    target: PartitionedTarget,
    extractors: Sequence[Extractor],
    context: ExtractContext,
    workers: int,
    progress: Callable[[int], None] | None = None,
    found: Callable[[list[Package]], None] | None = None,
) -> tuple[list[Package], int]:
    """All packages of ``target`` and the number of files walked; errors go to ``context``.

    ``found`` hears each subtree's packages as soon as they arrive, while the other subtrees are walked.
    """
    global _JOB
    top_files, subtrees = target.partition()
    packages = extract_files(top_files, target, extractors, context)
    seen = target.files_walked
    if found is not None:
        found(packages)
    _JOB = _Job(target, tuple(extractors), WalkFilter(extractors), context.os)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for batch in pool.imap_unordered(_run_subtree, subtrees):
                packages += batch.packages
                if found is not None:
                    found(batch.packages)
                context.errors += batch.errors
                seen += batch.seen
                if progress is not None:
                    progress(seen)
    finally:
        _JOB = None
    return packages, seen
