"""Package URLs (purl) for rampart's packages, per the purl specification's type rules."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from rampart.model import Package

_TYPES = {"Debian": "deb", "Ubuntu": "deb", "PyPI": "pypi", "npm": "npm", "Go": "golang"}


def package_url(package: Package) -> str:
    """The purl of an installed package, e.g. ``pkg:deb/debian/bash@5.1-2?distro=debian-11``."""
    family, _, release = package.ecosystem.partition(":")
    kind = _TYPES.get(family, family.lower())
    name = package.name
    namespace = ""
    if kind == "deb":
        namespace = family.lower() + "/"
    elif kind == "npm" and name.startswith("@") and "/" in name:
        scope, _, name = name.partition("/")
        namespace = quote(scope, safe="") + "/"
    elif kind == "golang" and "/" in name:
        head, _, name = name.rpartition("/")
        namespace = quote(head, safe="/") + "/"
    purl = f"pkg:{kind}/{namespace}{quote(name, safe='')}@{quote(package.version, safe='')}"
    if kind == "deb" and release:
        purl += f"?distro={family.lower()}-{release}"
    return purl
