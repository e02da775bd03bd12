"""``image_pkg_cache``: the image carries no package manager caches (apt lists and .debs, dnf/yum, apk, pip,
npm, yarn) — they make it larger and record what was fetched, and nothing in a container needs them.

Each glob of ``paths`` is matched in the image; a match counts when it is a non-empty regular file or a
directory holding at least one non-empty regular file (an empty ``partial`` directory or ``lock`` file, as
apt leaves even after a clean, does not). Names in ``ignore`` (basename globs) never count. Parameters:

- ``paths``: globs (default: apt lists, apt archives' .debs and pkgcache .bin files, dnf, yum and apk caches,
  pip, npm and yarn caches of root and of users under /home);
- ``ignore``: basenames left out (default ``lock``, ``partial``, ``auxfiles``);
- ``max_bytes`` (default 0): the total size allowed before the check fails.

Evidence: each cache path with its file count and size. Targets that are not images are ``na``.
"""

from __future__ import annotations

import fnmatch

from pydantic import Field

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE
from rampart.harden.model import Outcome
from rampart.harden.view import SystemView

CACHE_PATHS = (
    "/var/lib/apt/lists/*", "/var/cache/apt/archives/*.deb", "/var/cache/apt/*.bin",
    "/var/cache/dnf/*", "/var/cache/yum/*", "/var/cache/apk/*",
    "/root/.cache/pip", "/home/*/.cache/pip", "/root/.npm/_cacache", "/home/*/.npm/_cacache",
    "/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/*/.cache/yarn",
)  # fmt: skip
IGNORED = ("lock", "partial", "auxfiles")
MAX_ENTRIES = 200_000
MAX_LINES = 30


class ImagePkgCacheParams(Params):
    paths: list[str] = Field(default_factory=lambda: list(CACHE_PATHS))
    ignore: list[str] = Field(default_factory=lambda: list(IGNORED))
    max_bytes: int = 0


def evaluate(params: ImagePkgCacheParams, context: Context) -> Outcome:
    if context.view.image_config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    found: dict[str, tuple[int, int]] = {}
    for pattern in params.paths:
        for path in context.view.glob(pattern):
            if path not in found and not _ignored(params, path):
                found[path] = _usage(context.view, path, params.ignore)
    found = {path: usage for path, usage in found.items() if usage[0]}
    total = sum(size for _, size in found.values())
    lines = [
        f"{path}: {count} file{'s' * (count != 1)}, {human(size)}" for path, (count, size) in found.items()
    ]
    if not found:
        return Outcome.passed(f"no package manager cache found ({len(params.paths)} locations looked at)")
    lines = lines[:MAX_LINES] + ([f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else [])
    summary = f"{human(total)} of package manager caches in {len(found)} places"
    return Outcome.failed(summary, *lines) if total > params.max_bytes else Outcome.passed(summary, *lines)


def _ignored(params: ImagePkgCacheParams, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in params.ignore)


def _usage(view: SystemView, path: str, ignore: list[str]) -> tuple[int, int]:
    """How many non-empty regular files ``path`` is or holds (links not followed), and their total size."""
    count = size = seen = 0
    pending = [path]
    while pending and seen < MAX_ENTRIES:
        here = pending.pop()
        entry = view.stat(here, follow=False)
        seen += 1
        if entry is None or any(fnmatch.fnmatchcase(here.rsplit("/", 1)[-1], name) for name in ignore):
            continue
        if entry.kind == "file" and entry.size > 0:
            count, size = count + 1, size + entry.size
        elif entry.kind == "dir":
            pending.extend(f"{here}/{name}" for name in view.listdir(here) or ())
    return count, size


def human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f} KiB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MiB"


CHECK = CheckType(
    "image_pkg_cache", ImagePkgCacheParams, evaluate, "no package manager caches left in the image"
)
