"""The CycloneDX 1.6 JSON SBOM: a scan target's packages and, for a scan, its findings as vulnerabilities.

Pure: a ScanResult, the current time and the BOM's serial number in, a JSON text out, built with
cyclonedx-python-lib (imported only when this format is asked for). The target is the metadata component;
the distribution (when known) is an operating-system component, and every package is a component whose
bom-ref is derived from the package itself (stable and unique). Each finding is one vulnerability affecting its package's component; findings hidden by an ignore rule are
listed too, with the rule's reason as their analysis and ``will_not_fix`` as the response.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from rampart import __version__
from rampart.model import Finding, IgnoredFinding, Inventory, OsRelease, Package, ScanResult
from rampart.report.spdx import json_text, package_digest, sbom_purl, spdx_expression, unique_packages

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component
    from cyclonedx.model.license import License
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityAnalysis,
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySource,
    )

ROOT_REF = "target"
OS_REF = "operating-system"
_SOURCES = {
    "CVE-": ("NVD", "https://nvd.nist.gov/vuln/detail/"),
    "GHSA-": ("GitHub", "https://github.com/advisories/"),
}


def render_cyclonedx(
    result: ScanResult,
    now: datetime,
    serial: uuid.UUID | None = None,
    licenses: Mapping[Package, str] | None = None,
) -> str:
    """The result as one indented CycloneDX 1.6 JSON document (a fresh serial unless ``serial`` is given)."""
    import json

    from cyclonedx.output.json import JsonV1Dot6

    bom = build_bom(result, now, serial or uuid.uuid4(), licenses or {})
    return json_text(json.loads(JsonV1Dot6(bom).output_as_string()))


def bom_ref(package: Package) -> str:
    """The component's bom-ref: its purl made unique by a digest of where the package was found."""
    return f"{package.purl}#{package_digest(package)}"


def build_bom(result: ScanResult, now: datetime, serial: uuid.UUID, licenses: Mapping[Package, str]) -> Bom:
    from cyclonedx.model.bom import Bom

    bom = Bom(serial_number=serial)
    bom.metadata.timestamp = now
    bom.metadata.tools.components.add(_tool())
    bom.metadata.component = _root(result.inventory)
    packages = unique_packages(
        (
            *result.inventory.packages,
            *(f.package for f in result.findings),
            *(i.finding.package for i in result.ignored),
        )
    )
    os_release = result.inventory.os
    components = [
        *([_os_component(os_release)] if os_release else []),
        *(_component(p, licenses.get(p)) for p in packages),
    ]
    bom.components.update(components)
    bom.register_dependency(bom.metadata.component, components)
    bom.vulnerabilities.update(_vulnerabilities(result.findings, result.ignored))
    return bom


def _tool() -> Component:
    from cyclonedx.model.component import Component, ComponentType

    return Component(type=ComponentType.APPLICATION, name="rampart", version=__version__)


def _root(inventory: Inventory) -> Component:
    from cyclonedx.model.component import Component, ComponentType

    return Component(type=ComponentType.FILE, name=inventory.target, bom_ref=ROOT_REF)


def _os_component(os_release: OsRelease) -> Component:
    """The distribution, named by its ``os-release`` id (``debian``) and version."""
    from cyclonedx.model.component import Component, ComponentType

    return Component(
        type=ComponentType.OPERATING_SYSTEM,
        name=os_release.id,
        version=os_release.version_id or None,
        description=os_release.pretty_name or os_release.id,
        bom_ref=OS_REF,
    )


def _component(package: Package, license_text: str | None) -> Component:
    from cyclonedx.model.component import Component
    from packageurl import PackageURL

    return Component(
        name=package.name,
        version=package.version,
        purl=PackageURL.from_string(sbom_purl(package)),
        bom_ref=bom_ref(package),
        licenses=_licenses(license_text),
        properties=_properties(package),
    )


def _licenses(text: str | None) -> list[License]:
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

    if not text:
        return []
    expression = spdx_expression(text)
    return [LicenseExpression(expression)] if expression else [DisjunctiveLicense(name=text)]


def _properties(package: Package) -> list[Property]:
    from cyclonedx.model import Property

    values = {
        "rampart:ecosystem": package.ecosystem,
        "rampart:location": package.location,
        "rampart:extractor": package.extractor,
        "rampart:source_name": package.source_name,
        "rampart:source_version": package.source_version,
        "rampart:managed_by": package.managed_by,
        "rampart:layer": package.layer,
    }
    return [Property(name=name, value=value) for name, value in values.items() if value]


def _vulnerabilities(findings: Iterable[Finding], ignored: Iterable[IgnoredFinding]) -> list[Vulnerability]:
    listed = [_vulnerability(f) for f in findings]
    hidden = [_vulnerability(i.finding, _ignored_analysis(i)) for i in ignored]
    return listed + hidden


def _vulnerability(finding: Finding, analysis: VulnerabilityAnalysis | None = None) -> Vulnerability:
    from cyclonedx.model.vulnerability import Vulnerability, VulnerabilityReference

    aliases = dict.fromkeys((*finding.aliases, *finding.advisory_ids))
    aliases.pop(finding.vulnerability_id, None)
    return Vulnerability(
        bom_ref=f"{finding.vulnerability_id}#{package_digest(finding.package)}",
        id=finding.vulnerability_id,
        source=_source(finding.vulnerability_id),
        references=[VulnerabilityReference(id=a, source=_source(a)) for a in aliases],
        ratings=[_rating(finding)],
        description=finding.summary or None,
        recommendation=_recommendation(finding),
        affects=[_affects(finding)],
        analysis=analysis,
    )


def _source(vulnerability_id: str) -> VulnerabilitySource:
    from cyclonedx.model import XsUri
    from cyclonedx.model.vulnerability import VulnerabilitySource

    for prefix, (name, url) in _SOURCES.items():
        if vulnerability_id.startswith(prefix):
            return VulnerabilitySource(name=name, url=XsUri(url + vulnerability_id))
    return VulnerabilitySource(name="OSV", url=XsUri("https://osv.dev/vulnerability/" + vulnerability_id))


def _rating(finding: Finding) -> VulnerabilityRating:
    from cyclonedx.model.vulnerability import VulnerabilityRating, VulnerabilitySeverity

    severity = VulnerabilitySeverity(finding.severity.name.lower())  # the same five names
    if not finding.cvss_vector:
        return VulnerabilityRating(severity=severity)
    score = Decimal(str(finding.cvss_score)) if finding.cvss_score is not None else None
    return VulnerabilityRating(
        score=score, severity=severity, method=_cvss_method(finding.cvss_vector), vector=finding.cvss_vector
    )


def _cvss_method(vector: str) -> VulnerabilityScoreSource:
    from cyclonedx.model.vulnerability import VulnerabilityScoreSource

    methods = {
        "CVSS:4.0/": VulnerabilityScoreSource.CVSS_V4,
        "CVSS:3.1/": VulnerabilityScoreSource.CVSS_V3_1,
        "CVSS:3.0/": VulnerabilityScoreSource.CVSS_V3,
    }
    for prefix, method in methods.items():
        if vector.startswith(prefix):
            return method
    return VulnerabilityScoreSource.CVSS_V2 if vector.startswith("AV:") else VulnerabilityScoreSource.OTHER


def _recommendation(finding: Finding) -> str | None:
    if not finding.fixed_versions:
        return None
    return f"Upgrade {finding.package.name} to {' or '.join(finding.fixed_versions)}"


def _affects(finding: Finding) -> BomTarget:
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import BomTarget, BomTargetVersionRange

    versions = [
        BomTargetVersionRange(version=finding.package.version, status=ImpactAnalysisAffectedStatus.AFFECTED)
    ]
    versions += (
        BomTargetVersionRange(version=v, status=ImpactAnalysisAffectedStatus.UNAFFECTED)
        for v in finding.fixed_versions
    )
    return BomTarget(ref=bom_ref(finding.package), versions=versions)


def _ignored_analysis(ignored: IgnoredFinding) -> VulnerabilityAnalysis:
    from cyclonedx.model.impact_analysis import ImpactAnalysisResponse
    from cyclonedx.model.vulnerability import VulnerabilityAnalysis

    until = f" (until {ignored.expires})" if ignored.expires else ""
    return VulnerabilityAnalysis(
        responses=[ImpactAnalysisResponse.WILL_NOT_FIX], detail=f"ignored by rule: {ignored.reason}{until}"
    )
