"""What a registry repository holds: its tags (Distribution API ``tags/list``, paginated) and the digest a tag names.

Both answers are untrusted: the tag list is read with a byte cap and a tag count cap, every tag must be a
valid tag name (others are skipped and counted), pagination links must stay on the same path, and a tag's
digest is the SHA-256 of the manifest bytes the registry sends (never its ``Docker-Content-Digest`` header).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from rampart.image.registry import ACCEPT, RegistryClient, RegistryError
from rampart.image.source import MAX_JSON_BLOB

MAX_TAGS = 10_000
PAGE = 1000
MAX_PAGE_BYTES = 4 * 1024 * 1024
_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


@dataclass(frozen=True)
class TagList:
    """A repository's valid tag names, sorted, and how many listed names were not valid tags."""

    tags: tuple[str, ...]
    skipped: int = 0


def valid_tag(name: object) -> bool:
    """Whether ``name`` is a tag name the Distribution spec allows (``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``)."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= 128
        and name[0] not in ".-"
        and all(c in _TAG_CHARS for c in name)
    )


def list_tags(client: RegistryClient, repository: str) -> TagList:
    """Every tag of ``repository`` (RegistryError when the registry refuses or answers nonsense)."""
    scope = f"repository:{repository}:pull"
    path: str | None = f"/v2/{repository}/tags/list?n={PAGE}"
    found: set[str] = set()
    skipped = 0
    while path is not None:
        response = client.get(path, "application/json", scope)
        names = _page_names(_read_capped(response, MAX_PAGE_BYTES, f"{client.host} tag list"), repository)
        path = _next_page(response, repository)
        good = [name for name in names if isinstance(name, str) and valid_tag(name)]
        skipped += len(names) - len(good)
        found.update(good)
        if len(found) > MAX_TAGS:
            raise RegistryError(f"{client.host}/{repository} lists more than {MAX_TAGS} tags")
    return TagList(tuple(sorted(found)), skipped)


def tag_digest(client: RegistryClient, repository: str, tag: str) -> str:
    """The digest (``sha256:...``) of the manifest or index ``tag`` names now."""
    response = client.get(f"/v2/{repository}/manifests/{tag}", ACCEPT, f"repository:{repository}:pull")
    data = _read_capped(response, MAX_JSON_BLOB, f"{client.host}/{repository}:{tag} manifest")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _read_capped(response: httpx.Response, cap: int, what: str) -> bytes:
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > cap:
                raise RegistryError(f"{what} is larger than {cap} bytes")
    except httpx.HTTPError as exc:
        raise RegistryError(f"{what} ended early: {str(exc)[:200] or type(exc).__name__}") from None
    finally:
        response.close()
    return bytes(data)


def _page_names(data: bytes, repository: str) -> list[object]:
    try:
        document = json.loads(data)
    except ValueError:
        raise RegistryError(f"the tag list of {repository} is not JSON") from None
    tags = document.get("tags") if isinstance(document, dict) else None
    if tags is None and isinstance(document, dict) and "tags" in document:
        return []  # a repository with no tags says null
    if not isinstance(tags, list):
        raise RegistryError(f"the tag list of {repository} has no 'tags' list")
    return tags


def _next_page(response: httpx.Response, repository: str) -> str | None:
    """The path of the next page from a ``Link: <...>; rel="next"`` header, kept on the same tag-list path."""
    link = response.headers.get("Link", "")
    if 'rel="next"' not in link or "<" not in link or ">" not in link:
        return None
    target = urlsplit(link[link.index("<") + 1 : link.index(">")])
    if target.scheme or target.netloc or target.path != f"/v2/{repository}/tags/list":
        raise RegistryError(f"the tag list of {repository} links its next page elsewhere: {link[:120]}")
    return f"{target.path}?{target.query}"
