"""What reading an SBOM yields (``SbomRead``), and the collector both readers feed component by component.

Per-component problems (bad purl, duplicate reference, control characters) become ``FileError`` entries
naming the SBOM and the component; components without a purl or of a type the matcher does not know are
only counted, and reported in one warning line. Rampart's own properties on a component (see ``PROPERTIES``)
restore what the directory scan knew (location, extractor, Debian source, managing package manager).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rampart.errors import ParseError
from rampart.model import FileError, Inventory, OsRelease, Package
from rampart.sbom import document
from rampart.sbom.document import printable
from rampart.sbom.purls import KNOWN_TYPES, Origin, distro_release, package_from_purl, parse_purl

PROPERTIES = {
    "rampart:location": "location",
    "rampart:extractor": "extractor",
    "rampart:source_name": "source_name",
    "rampart:source_version": "source_version",
    "rampart:managed_by": "managed_by",
    "rampart:ecosystem": "ecosystem",
}


@dataclass(frozen=True)
class SbomRead:
    """The packages an SBOM lists, the OS it describes, per-component errors and warnings."""

    target: str
    packages: tuple[Package, ...]
    os: OsRelease | None
    errors: tuple[FileError, ...] = ()
    warnings: tuple[str, ...] = ()

    def inventory(self) -> Inventory:
        """The scan pipeline's view: an Inventory as a directory walk would give it."""
        return Inventory(self.target, self.os, self.packages, self.errors, files_seen=1)


@dataclass
class Collector:
    """Accumulates packages and problems while a reader walks a document."""

    path: str
    os: OsRelease | None = None
    packages: list[Package] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    seen_refs: set[str] = field(default_factory=set)
    distro_os: OsRelease | None = None
    count: int = 0
    truncated: bool = False

    def new_ref(self, ref: str | None, where: str) -> bool:
        """Record a component's reference; False (and an error) when it was seen before."""
        if ref is None:
            return True
        if ref in self.seen_refs:
            self.error(where, f"duplicate reference {printable(ref)!r}; the first one is kept")
            return False
        self.seen_refs.add(ref)
        return True

    def error(self, where: str, message: str) -> None:
        self.errors.append(FileError(self.path, f"{where}: {message}"))

    def add(self, purl_text: str | None, where: str, properties: dict[str, str]) -> None:
        """Turn one component's purl into a Package, or count or report why not."""
        if self.count >= document.MAX_COMPONENTS:
            self.truncated = True
            return
        self.count += 1
        if purl_text is None:
            self.skipped["without a purl"] += 1
            return
        try:
            self._add(purl_text, properties)
        except ParseError as error:
            self.error(where, error.message)

    def _add(self, purl_text: str, properties: dict[str, str]) -> None:
        if not purl_text.isprintable():
            raise ParseError("purl holds control characters")
        purl = parse_purl(purl_text)
        if purl.type not in KNOWN_TYPES:
            self.skipped[f"of type {printable(purl.type, 20)}"] += 1
            return
        self.distro_os = self.distro_os or distro_release(purl)
        package = package_from_purl(purl, self.os, self._origin(properties))
        if package is not None:
            _check_printable(package)
            self.packages.append(package)

    def _origin(self, properties: dict[str, str]) -> Origin:
        facts = {PROPERTIES[k]: v for k, v in properties.items() if k in PROPERTIES and v.isprintable()}
        facts.setdefault("location", self.path)
        return Origin(**facts)

    def result(self) -> SbomRead:
        warnings: tuple[str, ...] = ()
        if self.skipped:
            parts = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
            total = sum(self.skipped.values())
            warnings = (f"{total} SBOM components were not checked ({parts}): rampart matches by purl",)
        if self.truncated:
            limit = document.MAX_COMPONENTS
            self.error("components", f"more than {limit} components; the rest were not read")
        packages = tuple(sorted(set(self.packages), key=_sort_key))
        return SbomRead(self.path, packages, self.os or self.distro_os, tuple(self.errors), warnings)


def _check_printable(package: Package) -> None:
    if not (package.name.isprintable() and package.version.isprintable()):
        raise ParseError(f"control characters in name or version of {printable(package.name)!r}")


def _sort_key(package: Package) -> tuple[str, str, str, str, str]:
    return (package.ecosystem, package.name, package.version, package.location, package.extractor)


def os_release_of(name: str | None, version: str | None, description: str | None = None) -> OsRelease | None:
    """An OsRelease from an operating-system component's name (``debian``) and version (``11``)."""
    if not name or not name.isprintable():
        return None
    family = name.strip().lower().split()[0] if name.strip() else ""
    family = {"alpine linux": "alpine"}.get(name.strip().lower(), family)
    version_id = (version or "").strip() if (version or "").isprintable() else ""
    pretty = description if description and description.isprintable() else ""
    return OsRelease(family, version_id, pretty) if family else None
