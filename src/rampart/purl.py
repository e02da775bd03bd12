"""Package URLs (purl) for rampart's packages, per the purl specification's type rules."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from rampart.model import Package

_TYPES = {"Debian": "deb", "Ubuntu": "deb", "PyPI": "pypi", "npm": "npm", "Go": "golang", "Maven": "maven"}
# Operating-system families: (purl type, vendor namespace).
_DISTROS = {
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"),
    "Chainguard": ("apk", "chainguard"),
    "Red Hat": ("rpm", "redhat"),
    "AlmaLinux": ("rpm", "almalinux"),
    "Rocky Linux": ("rpm", "rocky"),
    "Fedora": ("rpm", "fedora"),
    "Amazon Linux": ("rpm", "amazon"),
}


def package_url(package: Package) -> str:
    """The purl of an installed package, e.g. ``pkg:deb/debian/bash@5.1-2?distro=debian-11``."""
    family, _, release = package.ecosystem.partition(":")
    kind, vendor = _DISTROS.get(family, (_TYPES.get(family, family.lower()), ""))
    name = package.name
    namespace = vendor + "/" if vendor else ""
    if kind == "maven" and ":" in name:
        group, _, name = name.partition(":")
        namespace = quote(group, safe="") + "/"
    elif kind == "npm" and name.startswith("@") and "/" in name:
        scope, _, name = name.partition("/")
        namespace = quote(scope, safe="") + "/"
    elif kind == "golang" and "/" in name:
        head, _, name = name.rpartition("/")
        namespace = quote(head, safe="/") + "/"
    version, qualifiers = package.version, []
    if kind == "rpm" and ":" in version:  # the purl spec puts an rpm epoch in its own qualifier
        epoch, _, version = version.partition(":")
        qualifiers.append(f"epoch={quote(epoch, safe='')}")
    if vendor and release:
        qualifiers.insert(0, f"distro={quote(vendor + '-' + release.removeprefix('v'), safe='')}")
    purl = f"pkg:{kind}/{namespace}{quote(name, safe='')}@{quote(version, safe='')}"
    return purl + ("?" + "&".join(qualifiers) if qualifiers else "")
