"""From a package URL (purl) to the Package an extractor would have produced for the same package.

Types the matcher knows: deb, apk, rpm (OS packages, their ecosystem from the ``distro`` qualifier, else the
document's OS, else the purl namespace), pypi, npm, golang and maven. Names and versions are normalised as the
matching extractor does (PEP 503 names for PyPI, ``@scope/name`` for npm, ``module/path`` and no ``v`` for Go,
``group:artifact`` for Maven). The ``upstream`` qualifier (``glibc`` or ``tiff@4.2.0-1``) gives a Debian
package's source; an rpm ``epoch`` qualifier other than 0 prefixes the version.
apk and rpm ecosystems are those their extractors give for the same OS release.
"""

from __future__ import annotations

from dataclasses import dataclass

from packageurl import PackageURL

from rampart.errors import ParseError
from rampart.inventory import apk, rpm
from rampart.inventory.dpkg import ecosystem_for
from rampart.inventory.python import normalize_name
from rampart.model import OsRelease, Package

OS_TYPES = frozenset({"deb", "apk", "rpm"})
KNOWN_TYPES = OS_TYPES | {"pypi", "npm", "golang", "maven"}
MAX_PURL_LENGTH = 4096

_CODENAMES = {
    "stretch": ("debian", "9"),
    "buster": ("debian", "10"),
    "bullseye": ("debian", "11"),
    "bookworm": ("debian", "12"),
    "trixie": ("debian", "13"),
    "bionic": ("ubuntu", "18.04"),
    "focal": ("ubuntu", "20.04"),
    "jammy": ("ubuntu", "22.04"),
    "noble": ("ubuntu", "24.04"),
}


class PurlError(ParseError):
    """A package URL that does not parse or lacks a name or version."""


@dataclass(frozen=True)
class Origin:
    """What the document says about a package beyond its purl (defaults: the SBOM itself)."""

    location: str
    extractor: str = "sbom"
    source_name: str | None = None
    source_version: str | None = None
    managed_by: str | None = None
    ecosystem: str | None = None


def parse_purl(text: str) -> PackageURL:
    """A parsed purl; PurlError with a one-line reason when it is not one."""
    if len(text) > MAX_PURL_LENGTH:
        raise PurlError(f"purl longer than {MAX_PURL_LENGTH} characters")
    try:
        purl = PackageURL.from_string(text)
    except ValueError as error:
        raise PurlError(
            f"invalid purl: {str(error).splitlines()[0] if str(error) else 'malformed'}"
        ) from None
    if not purl.version:
        raise PurlError("purl has no version")
    return purl


def distro_release(purl: PackageURL) -> OsRelease | None:
    """The OS a ``distro`` qualifier names: ``debian-11``, ``ubuntu-22.04``, ``alpine-3.18.4``, ``bullseye``."""
    distro = _qualifiers(purl).get("distro", "").strip().lower()
    if not distro or purl.type not in OS_TYPES:
        return None
    if distro in _CODENAMES:
        family, version = _CODENAMES[distro]
        return OsRelease(family, version, version_codename=distro)
    family, dash, version = distro.partition("-")
    if not dash:
        family, version = (purl.namespace or "").lower(), distro
    if not family or not version[:1].isdigit():
        return OsRelease(family or (purl.namespace or "").lower(), "", version_codename=version)
    return OsRelease(family, version)


def package_from_purl(purl: PackageURL, os_release: OsRelease | None, origin: Origin) -> Package | None:
    """The Package of ``purl`` (None for a type the matcher does not know)."""
    if purl.type not in KNOWN_TYPES:
        return None
    ecosystem, name, version = _identity(purl, distro_release(purl) or os_release)
    ecosystem = origin.ecosystem or ecosystem
    source_name, source_version = origin.source_name, origin.source_version
    if purl.type in OS_TYPES:
        upstream_name, upstream_version = _upstream(purl)
        source_name = source_name or upstream_name or name
        source_version = source_version or upstream_version or version
    return Package(
        name, version, ecosystem, origin.location, origin.extractor, source_name, source_version,
        origin.managed_by,
    )  # fmt: skip


def _identity(purl: PackageURL, os_release: OsRelease | None) -> tuple[str, str, str]:
    namespace, name, version = purl.namespace or "", purl.name, purl.version or ""
    if purl.type == "deb":
        return _deb_ecosystem(namespace, os_release), name, version
    if purl.type == "apk":
        return _apk_ecosystem(os_release), name, version
    if purl.type == "rpm":
        return _rpm_ecosystem(namespace, os_release), name, _rpm_version(purl)
    if purl.type == "pypi":
        return "PyPI", normalize_name(name), version
    if purl.type == "npm":
        return "npm", f"{namespace}/{name}" if namespace else name, version
    if purl.type == "golang":
        return "Go", f"{namespace}/{name}" if namespace else name, version.removeprefix("v")
    return "Maven", f"{namespace}:{name}" if namespace else name, version


def _deb_ecosystem(namespace: str, os_release: OsRelease | None) -> str:
    if os_release is None and namespace.lower() in {"debian", "ubuntu"}:
        os_release = OsRelease(namespace.lower(), "")
    return ecosystem_for(os_release)


def _apk_ecosystem(os_release: OsRelease | None) -> str:
    return apk.ecosystem_for(os_release)


def _rpm_ecosystem(namespace: str, os_release: OsRelease | None) -> str:
    return rpm.ecosystem_for(os_release)


def _rpm_version(purl: PackageURL) -> str:
    epoch = _qualifiers(purl).get("epoch", "0").strip()
    version = purl.version or ""
    return f"{epoch}:{version}" if epoch not in {"", "0"} and ":" not in version else version


def _upstream(purl: PackageURL) -> tuple[str | None, str | None]:
    upstream = _qualifiers(purl).get("upstream", "").strip()
    if not upstream:
        return None, None
    name, at, version = upstream.partition("@")
    return name or None, (version or None) if at else None


def _qualifiers(purl: PackageURL) -> dict[str, str]:
    qualifiers = purl.qualifiers
    return dict(qualifiers) if isinstance(qualifiers, dict) else {}
