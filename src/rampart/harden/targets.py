"""Turning the TARGET a user names into a SystemView: the live host, a root filesystem directory, or an image.

``/`` (or nothing) is the running host with its live runtime; any other existing directory is a root
filesystem, unless it is an OCI image layout (it holds ``oci-layout``); a file is an image archive (oci-archive
or docker save tarball); anything else is read as a registry reference. Bad input is one `TargetError` line.
Close what `open_view` returns with `close_view` (an image keeps its archive or connection open).
"""

from __future__ import annotations

import os
from pathlib import Path

from rampart.errors import TargetError
from rampart.harden.imageview import ImageView
from rampart.harden.rootview import RootView
from rampart.harden.view import SystemView


def open_view(
    target: str | None = None,
    platform: str | None = None,
    insecure: bool = False,
    tag: str | None = None,
) -> SystemView:
    """The view ``target`` names; ``platform`` (os/arch[/variant]), ``tag`` and ``insecure`` apply to images."""
    text = "/" if target is None else target
    if not text.strip():
        raise TargetError("empty TARGET: name /, a root filesystem directory, an image file or a reference")
    if os.path.realpath(text) == "/":
        from rampart.harden.hostruntime import HostRuntime

        return RootView("/", HostRuntime(), name="/")
    path = Path(text)
    if path.is_dir() and not (path / "oci-layout").is_file():
        return _rootfs(path)
    return _image(text, platform, insecure, tag)


def _rootfs(path: Path) -> RootView:
    if not os.access(path, os.R_OK | os.X_OK):
        raise TargetError(f"{path}: the directory cannot be read")
    return RootView(str(path), name=str(path))


def _image(text: str, platform: str | None, insecure: bool, tag: str | None) -> ImageView:
    from rampart.image.source import Platform
    from rampart.image.target import open_image

    try:
        chosen = Platform.parse(platform) if platform else None
        image = open_image(text, chosen, tag, insecure=insecure)
    except TargetError as exc:
        raise TargetError(exc.message.splitlines()[0] if exc.message else f"{text}: not an image") from None
    except OSError as exc:
        raise TargetError(f"{text}: cannot be read ({exc.strerror or exc})") from None
    return ImageView(image, name=text)


def close_view(view: SystemView) -> None:
    """Release what an image view holds open (nothing to do for a directory or the host)."""
    if isinstance(view, ImageView):
        view.image.close()
