"""How a package is looked up in the advisory database: name normalisation and Debian source mapping.

The advisory DB stores names with ``normalize_name`` applied, so both sides compare equal;
dpkg-based ecosystems are matched through the package's source name and source version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rampart.model import Package, ecosystem_family

_PEP503_SEPARATORS = re.compile(r"[-_.]+")

# Ecosystems whose advisories name source packages (binary packages are matched through them).
SOURCE_MATCHED: frozenset[str] = frozenset({"Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux"})


@lru_cache(maxsize=65_536)
def normalize_name(ecosystem: str, name: str) -> str:
    """The name as stored and compared: PEP 503 for PyPI, unchanged elsewhere."""
    if ecosystem_family(ecosystem) == "PyPI":
        return _PEP503_SEPARATORS.sub("-", name).lower()
    return name


@lru_cache(maxsize=1_024)
def normalize_ecosystem(ecosystem: str) -> str:
    """Ecosystem as compared: Ubuntu ``:LTS`` suffix dropped (``Ubuntu:22.04:LTS`` = ``Ubuntu:22.04``), Red Hat
    repository suffix dropped (``Red Hat:enterprise_linux:9::appstream`` = ``Red Hat:enterprise_linux:9``,
    as an installed system does not record which repository a package came from)."""
    family = ecosystem_family(ecosystem)
    if family == "Ubuntu" and ecosystem.endswith(":LTS"):
        return ecosystem[: -len(":LTS")]
    if family == "Red Hat" and "::" in ecosystem:
        return ecosystem.split("::", 1)[0]
    return ecosystem


@dataclass(frozen=True)
class LookupKey:
    """What is searched for one package: ecosystem, normalised (source) name and the version compared."""

    ecosystem: str
    name: str
    version: str


def lookup_key(package: Package) -> LookupKey:
    """Debian/Ubuntu packages are looked up by source name and source version; others by their own."""
    if ecosystem_family(package.ecosystem) in SOURCE_MATCHED:
        name = package.source_name or package.name
        version = package.source_version or package.version
    else:
        name, version = package.name, package.version
    return LookupKey(package.ecosystem, normalize_name(package.ecosystem, name), version)
