"""An image's runtime settings as the image checks read them: ``config.*`` of the config document, read
defensively (the document comes from the image, so any field may be missing or of the wrong type), and
`shown` to make any text from it safe and short for an evidence line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rampart.harden.context import Context

NOT_AN_IMAGE = "the target is not a container image"


def container_config(context: Context) -> Mapping[str, Any] | None:
    """The ``config`` object of the image's config document ({} when absent); None when not an image."""
    document = context.view.image_config
    if document is None:
        return None
    config = document.get("config")
    return config if isinstance(config, Mapping) else {}


def labels(config: Mapping[str, Any]) -> dict[str, str]:
    """``config.Labels`` with string keys and values only."""
    found = config.get("Labels")
    if not isinstance(found, Mapping):
        return {}
    return {key: value for key, value in found.items() if isinstance(key, str) and isinstance(value, str)}


def env(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``config.Env`` as (name, value) pairs, in order; an entry without '=' has an empty value."""
    found = config.get("Env")
    if not isinstance(found, list):
        return []
    pairs = []
    for item in found:
        if isinstance(item, str):
            name, _, value = item.partition("=")
            pairs.append((name, value))
    return pairs


def shown(text: str, limit: int = 120) -> str:
    """``text`` for an evidence line, cut to ``limit`` characters (reporters escape what they print)."""
    clean = text[: limit + 1]
    return clean if len(clean) <= limit else clean[:limit] + "..."
