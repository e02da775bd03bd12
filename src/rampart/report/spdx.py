"""The SPDX 2.3 JSON SBOM: a scan target's inventory as an SPDX document.

Pure: a ScanResult (only its inventory is used; SPDX 2.3 has no place for vulnerabilities), the current
time and the document's UUID in, a JSON text out. The target is the root package the document DESCRIBES;
it CONTAINS the distribution (an OPERATING-SYSTEM package, when known) and one package per installed
package. Package ids are derived from the package itself, so they
are stable from one run to the next and unique within the document; packages are listed in inventory order.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from rampart import __version__
from rampart.model import Inventory, OsRelease, Package, ScanResult

NOASSERTION = "NOASSERTION"
ROOT_ID = "SPDXRef-Target"
OS_ID = "SPDXRef-OperatingSystem"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9.-]+")
_UNSAFE_NAMESPACE = re.compile(r"[^A-Za-z0-9._-]+")


MANAGED_BY = "rampart:managed_by"


def render_spdx(
    result: ScanResult,
    now: datetime,
    document_id: uuid.UUID | None = None,
    licenses: Mapping[Package, str] | None = None,
) -> str:
    """The inventory as one indented SPDX 2.3 JSON document (a fresh UUID unless ``document_id`` is given)."""
    document = spdx_document(result.inventory, now, document_id or uuid.uuid4(), licenses or {})
    return json_text(document)


def json_text(document: object) -> str:
    """Indented, ASCII-only JSON (control and non-ASCII characters escaped), ending with a newline."""
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def spdx_document(
    inventory: Inventory, now: datetime, document_id: uuid.UUID, licenses: Mapping[Package, str]
) -> dict[str, Any]:
    packages = unique_packages(inventory.packages)
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": inventory.target,
        "documentNamespace": _namespace(inventory.target, document_id),
        "creationInfo": {"creators": [f"Tool: rampart-{__version__}"], "created": timestamp(now)},
        "packages": [
            _root(inventory),
            *([_os_package(inventory.os)] if inventory.os else []),
            *(_package(p, licenses.get(p), now) for p in packages),
        ],
        "relationships": _relationships([OS_ID] if inventory.os else [], packages),
    }


def unique_packages(packages: Iterable[Package]) -> list[Package]:
    """Each package once, in first-seen order."""
    return list(dict.fromkeys(packages))


def package_digest(package: Package) -> str:
    """A short hash of everything that identifies an installed package: equal packages, equal digests."""
    fields = (package.ecosystem, package.name, package.version, package.location, package.extractor)
    return hashlib.sha256("\0".join(fields).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def sbom_purl(package: Package) -> str:
    """The package's purl, with an ``upstream`` qualifier naming its source package when that differs.

    The source package is what distribution advisories name, so an SBOM read back is matched as the scan was.
    """
    source = (package.source_name or package.name, package.source_version or package.version)
    if not package.purl.startswith("pkg:deb/") or source == (package.name, package.version):
        return package.purl
    upstream = source[0] if source[1] == package.version else f"{source[0]}@{source[1]}"
    separator = "&" if "?" in package.purl else "?"
    return f"{package.purl}{separator}upstream={quote(upstream, safe='')}"


def timestamp(now: datetime) -> str:
    """UTC, whole seconds, ``Z`` suffix: the form both SBOM formats expect."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spdx_expression(text: str | None) -> str | None:
    """``text`` normalised as a valid SPDX license expression of known licenses, else None."""
    if not text:
        return None
    from license_expression import get_spdx_licensing

    checked = get_spdx_licensing().validate(text)
    return None if checked.errors else checked.normalized_expression


def _namespace(target: str, document_id: uuid.UUID) -> str:
    name = _UNSAFE_NAMESPACE.sub("-", target).strip("-")[:64] or "target"
    return f"https://spdx.org/spdxdocs/rampart-{name}-{document_id}"


def _spdx_id(package: Package) -> str:
    name = _UNSAFE_ID.sub("-", package.name).strip("-")[:64]
    return (
        f"SPDXRef-Package-{name}-{package_digest(package)}"
        if name
        else f"SPDXRef-Package-{package_digest(package)}"
    )


def _root(inventory: Inventory) -> dict[str, Any]:
    return {
        "SPDXID": ROOT_ID,
        "name": inventory.target,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
    }


def _os_package(os_release: OsRelease) -> dict[str, Any]:
    """The distribution as its own package, named by its ``os-release`` id (``debian``) and version."""
    return {
        "SPDXID": OS_ID,
        "name": os_release.id,
        "versionInfo": os_release.version_id,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "primaryPackagePurpose": "OPERATING-SYSTEM",
        "description": os_release.pretty_name or os_release.id,
    }


def _package(package: Package, license_text: str | None, now: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "SPDXID": _spdx_id(package),
        "name": package.name,
        "versionInfo": package.version,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": spdx_expression(license_text) or NOASSERTION,
        "copyrightText": NOASSERTION,
        "sourceInfo": _source_info(package),
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": sbom_purl(package),
            }
        ],
    }
    comment = _comment(package, license_text if entry["licenseDeclared"] == NOASSERTION else None)
    if comment:
        entry["comment"] = comment
    if package.managed_by:
        entry["annotations"] = [_annotation(f"{MANAGED_BY}={package.managed_by}", now)]
    return entry


def _annotation(comment: str, now: datetime) -> dict[str, str]:
    """A fact SPDX has no field for, kept so reading the SBOM back gives the same findings."""
    return {
        "annotationDate": timestamp(now),
        "annotationType": "OTHER",
        "annotator": f"Tool: rampart-{__version__}",
        "comment": comment,
    }


def _comment(package: Package, unparsed_license: str | None) -> str:
    """What SPDX has no field for: a declared license that is no SPDX expression, the image layer."""
    notes = [
        *([f"declared license (not an SPDX expression): {unparsed_license}"] if unparsed_license else []),
        *([f"brought by image layer {package.layer}"] if package.layer else []),
    ]
    return "; ".join(notes)


def _source_info(package: Package) -> str:
    text = f"found by rampart's {package.extractor} extractor in {package.location}"
    if package.source_name and (package.source_name, package.source_version) != (
        package.name,
        package.version,
    ):
        text += f"; built from source package {package.source_name} {package.source_version or ''}".rstrip()
    return text


def _relationships(others: list[str], packages: Iterable[Package]) -> list[dict[str, str]]:
    describes = {
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": ROOT_ID,
    }
    contains = (
        {"spdxElementId": ROOT_ID, "relationshipType": "CONTAINS", "relatedSpdxElement": related}
        for related in (*others, *map(_spdx_id, packages))
    )
    return [describes, *contains]
