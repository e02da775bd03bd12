"""Container images read from local archives as a read-only filesystem view; nothing is ever extracted."""

from __future__ import annotations

from rampart.image.source import ImageError, ImageSource, LayerRef, Platform
from rampart.image.target import ImageTarget, open_image

__all__ = ["ImageError", "ImageSource", "ImageTarget", "LayerRef", "Platform", "open_image"]
