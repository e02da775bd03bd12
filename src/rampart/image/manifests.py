"""What OCI layouts and registries share about manifests: media types, checked descriptors, choosing an
image of an index by platform, and the layers a manifest lists."""

from __future__ import annotations

from typing import Any

from rampart.image.source import DEFAULT_PLATFORM, ImageError, LayerRef, Platform, digest_hex

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})


def descriptor(entry: Any, what: str) -> dict[str, Any]:
    """``entry`` once it is a descriptor with a sha256 digest and a size; ImageError otherwise."""
    if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
        raise ImageError(f"{what} holds a malformed descriptor")
    digest_hex(entry["digest"])
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(f"{what}: descriptor {entry['digest'][:80]} has no valid size")
    return entry


def platform_of(entry: dict[str, Any]) -> Platform | None:
    info = entry.get("platform")
    if not isinstance(info, dict):
        return None
    return Platform(str(info.get("os", "")), str(info.get("architecture", "")), str(info.get("variant", "")))


def pick(name: str, entries: list[dict[str, Any]], platform: Platform | None) -> dict[str, Any]:
    """The index entry for ``platform`` (default linux/amd64; a lone entry when none is asked for or named)."""
    if len(entries) == 1 and platform is None:
        return entries[0]
    wanted = platform or DEFAULT_PLATFORM
    for entry in entries:
        found = platform_of(entry)
        if found is not None and wanted.matches(found):
            return entry
    if len(entries) == 1 and platform_of(entries[0]) is None:
        return entries[0]
    named = {str(p) for p in map(platform_of, entries) if p is not None and p.os != "unknown"}
    raise ImageError(
        f"{name}: no image for platform {wanted} (available: {', '.join(sorted(named)) or 'none named'})"
    )


def layer_refs(name: str, manifest: dict[str, Any]) -> list[LayerRef]:
    """The layers a manifest lists, in order, their descriptors checked."""
    entries = manifest.get("layers")
    if not isinstance(entries, list):
        raise ImageError(f"{name}: the manifest lists no layers")
    described = [descriptor(e, f"{name}: manifest") for e in entries]
    return [LayerRef(e["digest"], str(e.get("mediaType", "")), e["size"]) for e in described]
