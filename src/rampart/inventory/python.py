"""The Python extractor: installed distributions from ``*.dist-info/METADATA`` and ``*.egg-info`` metadata.

A file is read when it lies anywhere below a ``site-packages`` or ``dist-packages`` directory (at any
depth, so vendored distributions count too) and is a ``*.dist-info/METADATA``, a ``*.egg-info/PKG-INFO``
or an ``*.egg-info`` file that is itself the PKG-INFO. A function bundle's own layout counts too: a
``*.dist-info`` at the top of the tree or under ``python/``, as ``pip install -t`` leaves it. Only the email-style header block is read (up to
``MAX_HEADER`` bytes); Name and Version are required. Names are PEP 503 normalised; ecosystem ``PyPI``.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from rampart.errors import LimitExceeded, ParseError
from rampart.inventory.base import ExtractContext
from rampart.model import OsRelease, Package
from rampart.target.base import FileInfo, Target

MAX_HEADER = 1024 * 1024
_CHUNK = 64 * 1024
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_VERSION = re.compile(r"^[A-Za-z0-9.+!_-]{1,128}$")


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name: ``Zope.Interface`` -> ``zope-interface``."""
    return re.sub(r"[-_.]+", "-", name).lower()


_DISTRIBUTION_DIST_PACKAGES = re.compile(r"usr/lib/python[0-9.]*/dist-packages/")


def _installed_by_dpkg(path: str, os_release: OsRelease | None) -> bool:
    """Debian policy: ``/usr/lib/python3*/dist-packages`` holds only what dpkg installed (pip uses /usr/local)."""
    if os_release is None:
        return False
    family = {os_release.id, *os_release.id_like}
    return bool(family & {"debian", "ubuntu"}) and _DISTRIBUTION_DIST_PACKAGES.match(path) is not None


# `pip install -t` output at a bundle's top or in a Lambda layer's python/ directory
_BUNDLE_METADATA = re.compile(r"(?:python/)?[^/]+\.dist-info/METADATA")


def _is_metadata_path(path: str) -> bool:
    if path.endswith("/METADATA"):
        return path[: -len("/METADATA")].endswith(".dist-info")
    if path.endswith("/PKG-INFO"):
        return path[: -len("/PKG-INFO")].endswith(".egg-info")
    return path.endswith(".egg-info")


def _header_end(data: bytes) -> int:
    """Where the first blank line starts (LF or CRLF line ends), or -1."""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
    return min(ends, default=-1)


def _read_header(handle: BinaryIO) -> bytes:
    """The bytes of the header block (up to the first blank line, or the whole file)."""
    data = b""
    while True:
        chunk = handle.read(_CHUNK)
        data += chunk
        end = _header_end(data)
        if end >= 0:
            return data[:end]
        if not chunk:
            return data
        if len(data) > MAX_HEADER:
            raise LimitExceeded(f"metadata header block is larger than {MAX_HEADER} bytes")


def parse_header(data: bytes) -> dict[str, str]:
    """Header name (lower-cased) -> first value, continuation lines ignored."""
    if b"\x00" in data:
        raise ParseError("metadata holds binary data")
    headers: dict[str, str] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name and not name[0].isspace():
            headers.setdefault(name.strip().lower(), value.strip())
    return headers


class PythonExtractor:
    """Reads installed Python distributions' metadata."""

    name = "python"
    directory_pattern = r".*-packages(?:/.*)?|(?:python/)?[^/]+\.dist-info"
    name_pattern = r"METADATA|PKG-INFO|.+\.egg-info"

    def wants(self, info: FileInfo) -> bool:
        path = info.path
        if _BUNDLE_METADATA.fullmatch(path):
            return True
        return (
            "-packages/" in path
            and _is_metadata_path(path)
            and ("site-packages/" in path or "dist-packages/" in path)
        )

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        with target.open(info.path) as handle:
            headers = parse_header(_read_header(handle))
        name, version = headers.get("name", ""), headers.get("version", "")
        if not name or not version:
            raise ParseError("metadata has no Name or no Version")
        if not _NAME.match(name) or not _VERSION.match(version):
            raise ParseError("metadata has an invalid Name or Version")
        managed_by = "dpkg" if _installed_by_dpkg(info.path, context.os) else None
        return [
            Package(normalize_name(name), version, "PyPI", "/" + info.path, self.name, managed_by=managed_by)
        ]
