"""The apk extractor: packages of Alpine-family systems from ``lib/apk/db/installed``.

* The file is a list of stanzas separated by blank lines; each line is ``X:value`` with a one-letter
  key (``P`` name, ``V`` version, ``A`` architecture, ``L`` license, ``o`` origin, ``F``/``R``/``Z``...
  for files, which are skipped). The first value of each key counts.
* ``o:`` (origin) names the source package, which Alpine's advisories name; the source version is the
  package's version (subpackages share their origin's ``pkgver-rN``). Without ``o:`` the source is the
  package itself.
* Ecosystem: ``Alpine:vMAJOR.MINOR`` from os-release's ``VERSION_ID`` (``3.19.1`` -> ``Alpine:v3.19``);
  the bare ``Alpine`` when the release is unknown. Wolfi and Chainguard (which also use apk) get their
  own release-less ecosystems.
* A malformed stanza (a line that is not ``X:value``, binary data, no or invalid name/version) is one
  per-file error (counted, first reason given); the other stanzas are kept. Files over ``MAX_SIZE`` and
  databases of more than ``MAX_STANZAS`` stanzas are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rampart.errors import LimitExceeded
from rampart.inventory.base import ExtractContext
from rampart.model import OsRelease, Package
from rampart.target.base import FileInfo, Target
from rampart.versions.apk import apk_key
from rampart.versions.base import InvalidVersion

INSTALLED = "lib/apk/db/installed"
MAX_SIZE = 64 * 1024 * 1024
MAX_STANZAS = 100_000
_WANTED_KEYS = frozenset("PVALo")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")
_RELEASE = re.compile(r"^(\d+)\.(\d+)")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_OWN_ECOSYSTEMS = {"wolfi": "Wolfi", "chainguard": "Chainguard"}


@dataclass(frozen=True)
class ApkRecord:
    """What one stanza says about one installed package."""

    name: str
    version: str
    arch: str
    license: str
    origin: str


def ecosystem_for(os_release: OsRelease | None) -> str:
    """The ecosystem of apk packages on a target with this OS (see the module docstring)."""
    if os_release is None:
        return "Alpine"
    if os_release.id in _OWN_ECOSYSTEMS:
        return _OWN_ECOSYSTEMS[os_release.id]
    release = _RELEASE.match(os_release.version_id)
    if os_release.id == "alpine" and release is not None:
        return f"Alpine:v{release.group(1)}.{release.group(2)}"
    return "Alpine"


def split_stanzas(text: str) -> list[str]:
    """The non-empty stanzas of an installed-db text; raises LimitExceeded past ``MAX_STANZAS``."""
    chunks = [c for c in _BLANK_LINES.split(text.replace("\r\n", "\n").strip("\n")) if c.strip()]
    if len(chunks) > MAX_STANZAS:
        raise LimitExceeded(f"more than {MAX_STANZAS} package stanzas")
    return chunks


def _fields(chunk: str) -> dict[str, str] | str:
    """The wanted keys' first values, or the reason the stanza is malformed."""
    if "\x00" in chunk:
        return "binary data in the stanza"
    fields: dict[str, str] = {}
    for line in chunk.strip("\n").split("\n"):
        if len(line) < 2 or line[1] != ":" or not line[0].isascii() or not line[0].isalpha():
            return "a line is not 'X:value'"
        if line[0] in _WANTED_KEYS:
            fields.setdefault(line[0], line[2:].strip())
    return fields


def parse_record(chunk: str) -> ApkRecord | str:
    """One stanza's record, or the reason it is malformed."""
    fields = _fields(chunk)
    if isinstance(fields, str):
        return fields
    name, version = fields.get("P"), fields.get("V")
    if name is None or version is None:
        return "no P: (name) or no V: (version) line"
    origin = fields.get("o", name)
    if not _NAME.match(name) or not _NAME.match(origin):
        return f"invalid package name {name!r} or origin {origin!r}"
    try:
        apk_key(version)
    except InvalidVersion as exc:
        return exc.message
    return ApkRecord(name, version, fields.get("A", ""), fields.get("L", ""), origin)


class ApkExtractor:
    """Reads apk's database of installed packages."""

    name = "apk"

    directory_pattern = r"lib/apk/db"
    name_pattern = r"installed"

    def wants(self, info: FileInfo) -> bool:
        return info.path == INSTALLED

    def extract(self, info: FileInfo, target: Target, context: ExtractContext) -> list[Package]:
        text = target.read_bytes(info.path, MAX_SIZE).decode("utf-8", errors="replace")
        ecosystem = ecosystem_for(context.os)
        packages: list[Package] = []
        problems: list[str] = []
        for number, chunk in enumerate(split_stanzas(text), start=1):
            record = parse_record(chunk)
            if isinstance(record, str):
                problems.append(f"stanza {number}: {record}")
                continue
            packages.append(self._package(record, info.path, ecosystem))
        if problems:
            context.add_error(info.path, f"{len(problems)} malformed stanza(s) skipped; first: {problems[0]}")
        return packages

    def _package(self, record: ApkRecord, path: str, ecosystem: str) -> Package:
        return Package(
            record.name, record.version, ecosystem, "/" + path, self.name, record.origin, record.version
        )
