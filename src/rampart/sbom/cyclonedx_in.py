"""Reading a CycloneDX JSON SBOM (specVersion 1.4, 1.5, 1.6) into packages and an OS release.

Components are walked depth first, nested ``components`` included, down to ``MAX_DEPTH`` levels. An
``operating-system`` component (or the ``metadata.component`` when it is one) gives the OS release.
Rampart's own ``properties`` (``rampart:location``, ...) are honoured; otherwise the first
``evidence.occurrences`` location, else the SBOM's path, is the package's location.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rampart.model import OsRelease
from rampart.sbom.document import MAX_DEPTH, SbomError, printable, text_field
from rampart.sbom.reading import Collector, SbomRead, os_release_of

SPEC_VERSIONS = ("1.4", "1.5", "1.6")


def check_cyclonedx(document: dict[str, Any], path: str) -> None:
    """SbomError unless ``document`` is a CycloneDX document of a supported version."""
    if document.get("bomFormat") != "CycloneDX":
        raise SbomError(f"{path}: bomFormat is not 'CycloneDX'")
    version = document.get("specVersion")
    if version not in SPEC_VERSIONS:
        shown = printable(str(version), 20)
        raise SbomError(f"{path}: unsupported CycloneDX specVersion {shown!r} (supported: 1.4, 1.5, 1.6)")
    if not isinstance(document.get("components", []), list):
        raise SbomError(f"{path}: 'components' is not a list")


def read_cyclonedx(document: dict[str, Any], path: str) -> SbomRead:
    """The packages (from purls) and OS release of a CycloneDX document."""
    check_cyclonedx(document, path)
    collector = Collector(path)
    components = list(walk_components(document, collector))
    collector.os = _os_release(document, components)
    for number, component in enumerate(components, 1):
        _add(collector, number, component)
    return collector.result()


def walk_components(document: dict[str, Any], collector: Collector | None = None) -> Iterator[dict[str, Any]]:
    """Every component object, nested ones included; deeper than MAX_DEPTH is reported once and skipped."""
    stack: list[tuple[Any, int]] = [(c, 1) for c in reversed(document.get("components") or [])]
    too_deep = False
    while stack:
        component, depth = stack.pop()
        if not isinstance(component, dict):
            continue
        if depth > MAX_DEPTH:
            too_deep = True
            continue
        yield component
        children = component.get("components")
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children))
    if too_deep and collector is not None:
        collector.error("components", f"nested deeper than {MAX_DEPTH} levels; the deeper ones were skipped")


def _add(collector: Collector, number: int, component: dict[str, Any]) -> None:
    if component.get("type") == "operating-system":
        return
    name = text_field(component, "name") or "?"
    where = f"component {number} ({printable(name, 60)})"
    if not collector.new_ref(text_field(component, "bom-ref"), where):
        return
    properties = _properties(component)
    location = _occurrence(component)
    if location is not None:
        properties.setdefault("rampart:location", location)
    collector.add(text_field(component, "purl"), where, properties)


def _properties(component: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in component.get("properties") or ():
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("value"), str)
        ):
            found.setdefault(entry["name"], entry["value"])
    return found


def _occurrence(component: dict[str, Any]) -> str | None:
    evidence = component.get("evidence")
    occurrences = evidence.get("occurrences") if isinstance(evidence, dict) else None
    for occurrence in occurrences if isinstance(occurrences, list) else ():
        if isinstance(occurrence, dict) and text_field(occurrence, "location"):
            return str(occurrence["location"])
    return None


def _os_release(document: dict[str, Any], components: list[dict[str, Any]]) -> OsRelease | None:
    metadata = document.get("metadata")
    top = metadata.get("component") if isinstance(metadata, dict) else None
    candidates = [top] if isinstance(top, dict) else []
    for component in (*candidates, *components):
        if component.get("type") == "operating-system":
            found = os_release_of(
                text_field(component, "name"),
                text_field(component, "version"),
                text_field(component, "description"),
            )
            if found is not None:
                return found
    return None
