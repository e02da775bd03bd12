"""Which layer of an image brought a package: the layer of the file that records that package's install.

For most packages that is the file the package was found in (a ``METADATA``, a ``package.json``). A dpkg
status file is rewritten by every layer that installs anything, so a dpkg package is traced to its own
``var/lib/dpkg/info/NAME[:ARCH].list`` file instead, which only its own install (or upgrade) writes.
"""

from __future__ import annotations

from rampart.image.target import ImageTarget
from rampart.model import Package

DPKG_INFO = "var/lib/dpkg/info"


def _dpkg_lists(target: ImageTarget, name: str) -> list[str]:
    listed = target.names(DPKG_INFO)
    return [
        f"{DPKG_INFO}/{n}" for n in (f"{name}.list", *sorted(listed)) if n in listed and _is_list(n, name)
    ]


def _is_list(file: str, name: str) -> bool:
    return file == f"{name}.list" or (file.startswith(name + ":") and file.endswith(".list"))


def layer_of_package(target: ImageTarget, package: Package) -> str | None:
    """The digest of the layer that brought ``package``, or None when no file of the image says."""
    candidates = _dpkg_lists(target, package.name) if package.extractor == "dpkg" else []
    for path in [*candidates, package.location.lstrip("/")]:
        try:
            return target.layer_of(path)
        except OSError:
            continue
    return None
