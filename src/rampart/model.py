"""Shared value types that flow between rampart's stages.

Everything here is a frozen dataclass or an enum with no behaviour beyond
small derived properties: extractors produce `Package`, the advisory database
produces `Advisory`, matchers produce `Finding`, and a scan bundles them in a
`ScanResult` that reporters render.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Severity(enum.IntEnum):
    """Qualitative severity, ordered so that comparisons mean "worse than"."""

    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a rating such as ``"High"`` or ``"moderate"``; anything else is UNKNOWN."""
        word = text.strip().upper()
        word = {"MODERATE": "MEDIUM", "IMPORTANT": "HIGH", "NEGLIGIBLE": "LOW", "UNIMPORTANT": "LOW"}.get(
            word, word
        )
        return cls.__members__.get(word, cls.UNKNOWN)

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """CVSS v3/v4 qualitative rating of a base score."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0.0:
            return cls.LOW
        return cls.UNKNOWN


def ecosystem_family(ecosystem: str) -> str:
    """``"Debian:11"`` -> ``"Debian"``; ``"PyPI"`` -> ``"PyPI"``."""
    return ecosystem.split(":", 1)[0]


@dataclass(frozen=True)
class OsRelease:
    """What ``etc/os-release`` says about the target's distribution."""

    id: str
    version_id: str
    pretty_name: str = ""
    id_like: tuple[str, ...] = ()
    version_codename: str = ""

    @property
    def ecosystem(self) -> str | None:
        """The OSV ecosystem of the distribution's packages, e.g. ``Debian:11``; None when unknown."""
        if self.id == "debian" and self.version_id:
            return f"Debian:{self.version_id.split('.')[0]}"
        if self.id == "ubuntu" and self.version_id:
            return f"Ubuntu:{self.version_id}"
        return None


@dataclass(frozen=True)
class Package:
    """One installed package, as found on the target (a fact, never a judgement).

    ``ecosystem`` is an OSV ecosystem name (``Debian:11``, ``PyPI``, ``npm``, ``Go``).
    For dpkg packages ``source_name``/``source_version`` carry the ``Source:`` field
    (equal to name/version when the field is absent). ``managed_by`` names the OS package manager
    that installed a language package (``dpkg`` for ``/usr/lib/python3/dist-packages``): the
    distribution patches such copies itself, so they are judged through its own package instead.
    ``layer`` is the digest of the image layer that brought the package (None outside images).
    """

    name: str
    version: str
    ecosystem: str
    location: str
    extractor: str
    source_name: str | None = None
    source_version: str | None = None
    managed_by: str | None = None
    layer: str | None = None

    @property
    def purl(self) -> str:
        from rampart.purl import package_url

        return package_url(self)


@dataclass(frozen=True)
class FileError:
    """One file that could not be read or parsed; the scan carries on without it."""

    path: str
    message: str


@dataclass(frozen=True)
class Event:
    """One OSV range event: kind is introduced, fixed, last_affected or limit."""

    kind: str
    version: str


@dataclass(frozen=True)
class Range:
    """One OSV range: type is ECOSYSTEM, SEMVER or GIT."""

    type: str
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Affected:
    """One OSV ``affected`` entry: a package in an ecosystem with its ranges and explicit versions."""

    ecosystem: str
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[SeverityScore, ...] = ()
    status: str | None = None


@dataclass(frozen=True)
class SeverityScore:
    """An OSV severity entry: type CVSS_V2/CVSS_V3/CVSS_V4/Ubuntu/..., score is a vector or rating."""

    type: str
    score: str


@dataclass(frozen=True)
class Advisory:
    """One OSV record as the matcher needs it."""

    id: str
    modified: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    withdrawn: str | None = None
    severity: tuple[SeverityScore, ...] = ()
    rating: str | None = None
    affected: tuple[Affected, ...] = ()

    @property
    def cve_ids(self) -> tuple[str, ...]:
        """CVE ids this record names, its own id first if it is one."""
        names = (self.id, *self.aliases, *self.related)
        return tuple(dict.fromkeys(n for n in names if n.startswith("CVE-")))


@dataclass(frozen=True)
class MatchEvidence:
    """How one advisory matched one package: what was searched and which range or version list hit."""

    advisory_id: str
    ecosystem: str
    name: str
    version: str
    matched: str


@dataclass(frozen=True)
class Finding:
    """One vulnerability (a CVE, or an advisory id where no CVE exists) in one installed package."""

    vulnerability_id: str
    package: Package
    advisory_ids: tuple[str, ...]
    severity: Severity
    fixed_versions: tuple[str, ...]
    summary: str = ""
    aliases: tuple[str, ...] = ()
    cvss_score: float | None = None
    cvss_vector: str | None = None
    evidence: tuple[MatchEvidence, ...] = ()

    @property
    def fixed(self) -> bool:
        return bool(self.fixed_versions)


@dataclass(frozen=True)
class Unmatchable:
    """A package/advisory pair that could not be judged because a version did not parse."""

    package: Package
    advisory_id: str
    reason: str


@dataclass(frozen=True)
class IgnoredFinding:
    """A finding hidden by an ignore rule, kept so reports can say so."""

    finding: Finding
    reason: str
    expires: str | None = None


@dataclass(frozen=True)
class DatabaseInfo:
    """What the scan knew about the advisory database it used."""

    path: str
    built_at: datetime | None
    schema_version: int
    counts: dict[str, int] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    """Everything the extractors found on one target."""

    target: str
    os: OsRelease | None
    packages: tuple[Package, ...]
    errors: tuple[FileError, ...] = ()
    files_seen: int = 0


@dataclass(frozen=True)
class ScanResult:
    """An inventory judged against a database: what reporters render."""

    inventory: Inventory
    findings: tuple[Finding, ...]
    database: DatabaseInfo | None = None
    ignored: tuple[IgnoredFinding, ...] = ()
    unmatchable: tuple[Unmatchable, ...] = ()
    warnings: tuple[str, ...] = ()
