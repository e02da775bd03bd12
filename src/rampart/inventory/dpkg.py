"""The dpkg extractor: packages of Debian-family systems from ``var/lib/dpkg/status`` and ``status.d/*``.

* Only packages whose ``Status`` says their files are on disk are listed: the third word is ``installed``,
  ``half-configured``, ``unpacked``, ``triggers-awaited`` or ``triggers-pending`` (the first word, e.g.
  ``deinstall``, is only a wish); ``config-files`` and ``not-installed`` are not. Distroless ``status.d``
  files usually have no Status field: they are treated as installed. ``*.md5sums`` files there are ignored.
* ``Source: tiff (4.2.0-1+deb11u3)`` gives the source name and version; without a version the source
  version is the binary version; without the field both equal the binary's.
* Ecosystem: ``OsRelease.ecosystem`` (``Debian:11``, ``Ubuntu:22.04``). When the release is unknown it is
  the bare family: ``Ubuntu`` when os-release says it is like Ubuntu, else ``Debian``; matchers decide what a
  release-less ecosystem can match.
* A malformed stanza (bad lines, binary data, no or invalid Package/Version) is one per-file error (counted,
  first reason given); the file's other stanzas are kept.
"""

from __future__ import annotations

import re

from rampart.inventory._stanza import Stanza, iter_stanzas
from rampart.inventory.base import ExtractContext
from rampart.model import OsRelease, Package
from rampart.target.base import FileInfo, Target

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
MAX_SIZE = 64 * 1024 * 1024
ON_DISK = frozenset({"installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9.+~:-]+$")
_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")


def ecosystem_for(os_release: OsRelease | None) -> str:
    """The ecosystem of dpkg packages on a target with this OS (see the module docstring)."""
    if os_release is None:
        return "Debian"
    if os_release.ecosystem is not None:
        return os_release.ecosystem
    if os_release.id == "ubuntu" or "ubuntu" in os_release.id_like:
        return "Ubuntu"
    return "Debian"


def _is_on_disk(fields: dict[str, str]) -> bool:
    status = fields.get("status")
    if status is None:
        return True
    words = status.split()
    return len(words) == 3 and words[2] in ON_DISK


def _source(fields: dict[str, str], name: str, version: str) -> tuple[str, str] | None:
    text = fields.get("source")
    if text is None:
        return name, version
    match = _SOURCE.match(text)
    if match is None or not _NAME.match(match.group(1)):
        return None
    source_version = match.group(2) or version
    return (match.group(1), source_version) if _VERSION.match(source_version) else None


class DpkgExtractor:
    """Reads dpkg's database of installed packages."""

    name = "dpkg"

    directory_pattern = r"var/lib/dpkg(?:/status\.d)?"
    name_pattern = r".+"

    def wants(self, info: FileInfo) -> bool:
        path = info.path
        if path == STATUS:
            return True
        return (
            path.startswith(STATUS_D) and "/" not in path[len(STATUS_D) :] and not path.endswith(".md5sums")
        )

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        text = target.read_bytes(info.path, MAX_SIZE).decode("utf-8", errors="replace")
        ecosystem = ecosystem_for(context.os)
        packages: list[Package] = []
        problems: list[str] = []
        for stanza in iter_stanzas(text):
            package = self._package(stanza, info.path, ecosystem, problems)
            if package is not None:
                packages.append(package)
        if problems:
            context.add_error(info.path, f"{len(problems)} malformed stanza(s) skipped; first: {problems[0]}")
        return packages

    def _package(self, stanza: Stanza, path: str, ecosystem: str, problems: list[str]) -> Package | None:
        fields = stanza.fields
        if stanza.problem is None and not _is_on_disk(fields):
            return None
        problem = stanza.problem or _problem(fields)
        if problem is not None:
            problems.append(f"stanza {stanza.number}: {problem}")
            return None
        name, version = fields["package"], fields["version"]
        source = _source(fields, name, version)
        if source is None:
            problems.append(f"stanza {stanza.number}: invalid Source field")
            return None
        return Package(name, version, ecosystem, "/" + path, self.name, source[0], source[1])


def _problem(fields: dict[str, str]) -> str | None:
    name, version = fields.get("package"), fields.get("version")
    if name is None or version is None:
        return "no Package or no Version field"
    if not _NAME.match(name) or not _VERSION.match(version):
        return "invalid Package or Version field"
    return None
