"""The one table of version schemes: OSV ecosystem family -> the scheme that orders its versions."""

from __future__ import annotations

from rampart.model import ecosystem_family
from rampart.versions.apk import APK
from rampart.versions.base import UnsupportedEcosystem, VersionScheme
from rampart.versions.dpkg import DPKG
from rampart.versions.golang import GO
from rampart.versions.maven import MAVEN
from rampart.versions.pep440 import PEP440
from rampart.versions.rpm import RPM
from rampart.versions.semver import SEMVER

SCHEMES: dict[str, VersionScheme] = {
    "Debian": DPKG,
    "Ubuntu": DPKG,
    "PyPI": PEP440,
    "npm": SEMVER,
    "Go": GO,
    "Maven": MAVEN,
    "Alpine": APK,
    "Wolfi": APK,
    "Chainguard": APK,
    "Red Hat": RPM,
    "AlmaLinux": RPM,
    "Rocky Linux": RPM,
    "Fedora": RPM,
    "Amazon Linux": RPM,
    "RPM": RPM,
}

# Ecosystems whose own scheme also reads OSV ``SEMVER`` range bounds.
_SEMVER_READERS: frozenset[str] = frozenset({"npm", "Go"})


def scheme_for(ecosystem: str) -> VersionScheme:
    """The scheme of ``ecosystem`` (``Debian:11`` works like ``Debian``); raises UnsupportedEcosystem."""
    scheme = SCHEMES.get(ecosystem_family(ecosystem))
    if scheme is None:
        raise UnsupportedEcosystem(f"no version scheme for ecosystem {ecosystem!r}")
    return scheme


def scheme_for_range(ecosystem: str, range_type: str) -> VersionScheme:
    """``ECOSYSTEM`` ranges use the ecosystem's scheme; ``SEMVER`` ranges SemVer (Go's for Go)."""
    if range_type == "SEMVER" and ecosystem_family(ecosystem) not in _SEMVER_READERS:
        return SEMVER
    return scheme_for(ecosystem)
