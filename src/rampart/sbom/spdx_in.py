"""Reading an SPDX JSON SBOM (SPDX-2.2, SPDX-2.3) into packages and an OS release.

Each package's ``externalRefs`` of type ``purl`` give its packages (several distinct purls, several
packages). A package whose ``primaryPackagePurpose`` is ``OPERATING-SYSTEM`` gives the OS release; without
one, the first ``distro`` qualifier of an OS package's purl does. Annotations rampart wrote
(``rampart:managed_by=dpkg``) restore what SPDX has no field for.
"""

from __future__ import annotations

from typing import Any

from rampart.model import OsRelease
from rampart.sbom.document import SbomError, printable, text_field
from rampart.sbom.reading import PROPERTIES, Collector, SbomRead, os_release_of

SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")


def check_spdx(document: dict[str, Any], path: str) -> None:
    """SbomError unless ``document`` is an SPDX JSON document of a supported version."""
    version = document.get("spdxVersion")
    if version not in SPDX_VERSIONS:
        shown = printable(str(version), 20)
        raise SbomError(f"{path}: unsupported spdxVersion {shown!r} (supported: SPDX-2.2, SPDX-2.3)")
    if not isinstance(document.get("packages", []), list):
        raise SbomError(f"{path}: 'packages' is not a list")


def read_spdx(document: dict[str, Any], path: str) -> SbomRead:
    """The packages (from purls) and OS release of an SPDX document."""
    check_spdx(document, path)
    packages = [p for p in document.get("packages") or () if isinstance(p, dict)]
    collector = Collector(path, os=_os_release(packages))
    for number, package in enumerate(packages, 1):
        _add(collector, number, package)
    return collector.result()


def _add(collector: Collector, number: int, package: dict[str, Any]) -> None:
    if package.get("primaryPackagePurpose") == "OPERATING-SYSTEM":
        return
    where = f"package {number} ({printable(text_field(package, 'name') or '?', 60)})"
    if not collector.new_ref(text_field(package, "SPDXID"), where):
        return
    purls = _purls(package)
    for purl in purls or (None,):
        collector.add(purl, where, _rampart_annotations(package))


def _purls(package: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for ref in package.get("externalRefs") or ():
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            locator = text_field(ref, "referenceLocator")
            if locator is not None and locator not in found:
                found.append(locator)
    return found


def _rampart_annotations(package: dict[str, Any]) -> dict[str, str]:
    """``rampart:KEY=VALUE`` facts rampart wrote as annotations (other annotations are left alone)."""
    found: dict[str, str] = {}
    for annotation in package.get("annotations") or ():
        comment = text_field(annotation, "comment") if isinstance(annotation, dict) else None
        annotator = text_field(annotation, "annotator") if isinstance(annotation, dict) else None
        if comment is None or not (annotator or "").startswith("Tool: rampart"):
            continue
        key, sep, value = comment.partition("=")
        if sep and key in PROPERTIES:
            found[key] = value
    return found


def _os_release(packages: list[dict[str, Any]]) -> OsRelease | None:
    for package in packages:
        if package.get("primaryPackagePurpose") == "OPERATING-SYSTEM":
            found = os_release_of(text_field(package, "name"), text_field(package, "versionInfo"))
            if found is not None:
                return found
    return None
