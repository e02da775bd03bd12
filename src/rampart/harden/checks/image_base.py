"""``image_base``: the image is built on a base image from a trusted registry and repository.

Where the base comes from is read, in order, from the ``org.opencontainers.image.base.name`` label
(``config.Labels``), the same key among the manifest's annotations (where BuildKit and the OCI spec put it),
and last the names the image itself goes by (the registry reference it was pulled by, a docker save
tarball's tags: the image then stands for its own provenance). With none of these the result is ``manual``
(a person must say what the image was built from). Parameters:

- ``trusted``: patterns of trusted images, shell globs on the repository (``docker.io/library/*``,
  ``registry.example.com/base/*``); a pattern with a tag or digest is matched against the whole reference.
  Docker Hub short names are expanded on both sides (``debian:12`` is ``docker.io/library/debian:12``).
- ``unknown``: the status when nothing names the base: ``manual`` (default), ``fail`` or ``na``.

Targets that are not images are ``na``.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Literal

from rampart.harden.checks.base import CheckType, Params
from rampart.harden.context import Context
from rampart.harden.facts.imageconfig import NOT_AN_IMAGE, container_config, labels, shown
from rampart.harden.imageview import ImageView
from rampart.harden.model import Outcome

BASE_NAME = "org.opencontainers.image.base.name"
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}")
DOCKER_HUB = "docker.io"
HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


class ImageBaseParams(Params):
    trusted: list[str]
    unknown: Literal["manual", "fail", "na"] = "manual"


def evaluate(params: ImageBaseParams, context: Context) -> Outcome:
    config = container_config(context)
    if config is None:
        return Outcome.not_applicable(NOT_AN_IMAGE)
    found = base_names(context, labels(config))
    if not found:
        return _unknown(params.unknown)
    name, where = found[0]
    if not REFERENCE.fullmatch(name):
        return Outcome.failed(f"base image {shown(name, 200)!r} ({where}) is not a valid image reference")
    if trusted(name, params.trusted):
        return Outcome.passed(f"base image {shown(name, 200)} ({where}) is from a trusted source")
    listed = ", ".join(params.trusted) or "none"
    return Outcome.failed(
        f"base image {shown(name, 200)} ({where}) matches no trusted pattern ({shown(listed, 200)})"
    )


def _unknown(status: str) -> Outcome:
    text = f"nothing names the base image (no {BASE_NAME} label or annotation, no registry reference)"
    if status == "fail":
        return Outcome.failed(text)
    if status == "na":
        return Outcome.not_applicable(text)
    return Outcome.manual(f"{text}: check what the image was built from")


def base_names(context: Context, found_labels: dict[str, str]) -> list[tuple[str, str]]:
    """Candidate names of the base image with where each was read, best first."""
    view = context.view
    names: list[tuple[str, str]] = []
    if found_labels.get(BASE_NAME, "").strip():
        names.append((found_labels[BASE_NAME].strip(), f"label {BASE_NAME}"))
    if isinstance(view, ImageView):
        if view.annotations.get(BASE_NAME, "").strip():
            names.append((view.annotations[BASE_NAME].strip(), f"manifest annotation {BASE_NAME}"))
        names += [(reference, "the image's own reference") for reference in view.references]
    return names


def normalize(reference: str) -> tuple[str, str]:
    """The reference in full (Docker Hub names expanded) and its repository alone (no tag, no digest)."""
    name, _, digest = reference.strip().partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    repository, tag = (name[:colon], name[colon:]) if colon > slash else (name, "")
    first, _, rest = repository.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost" or first in HUB_ALIASES):
        first, rest = DOCKER_HUB, repository
    if first in HUB_ALIASES:
        first = DOCKER_HUB
        rest = rest if "/" in rest else f"library/{rest}"
    full_repository = f"{first}/{rest}".lower()
    return full_repository + tag + (f"@{digest}" if digest else ""), full_repository


def trusted(reference: str, patterns: list[str]) -> bool:
    full, repository = normalize(reference)
    for pattern in patterns:
        whole, pattern_repository = normalize(pattern)
        exact = whole != pattern_repository
        if fnmatch.fnmatchcase(full if exact else repository, whole if exact else pattern_repository):
            return True
    return False


CHECK = CheckType("image_base", ImageBaseParams, evaluate, "the image's base comes from a trusted registry")
