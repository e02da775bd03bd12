"""VEX: statements by a supplier that a vulnerability does (not) affect a product, applied to findings.

Two formats are read: OpenVEX (JSON-LD with ``statements``) and CycloneDX VEX (a CycloneDX document whose
``vulnerabilities[].analysis`` gives a state; ``affects[].ref`` names a component's bom-ref or a purl).
A finding is hidden when the latest statement naming its vulnerability (id or alias) and its package says
``not_affected`` (with a justification or impact statement: without one the statement is invalid, reported
and not used) or ``fixed``. ``affected`` and ``under_investigation`` keep the finding and are counted.

Packages match by purl: type, namespace and name, the version when the statement gives one, and no qualifier
both sides give with different values (order and extra qualifiers do not matter). A Debian package also
matches through its source package. A statement without products, or whose product is not a package (an
image, a non-purl id) without subcomponents, applies to every package of the scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from rampart.errors import RampartError
from rampart.jsonfile import load_json_file
from rampart.model import Finding, IgnoredFinding, Package

MAX_VEX_FILE_BYTES = 64 * 1024 * 1024
HIDING = frozenset({"not_affected", "fixed"})
STATUSES = HIDING | {"affected", "under_investigation"}
_WHOLE_PRODUCT_TYPES = frozenset({"oci", "docker"})
_CYCLONEDX_STATES = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}


class VexFileError(RampartError):
    """A VEX file cannot be used at all (unreadable, not JSON, neither OpenVEX nor CycloneDX)."""


@dataclass(frozen=True)
class ProductKey:
    """A purl as compared: lower-cased type, namespace and name, optional version, qualifiers."""

    type: str
    namespace: str
    name: str
    version: str | None
    qualifiers: tuple[tuple[str, str], ...]

    def covers(self, other: ProductKey) -> bool:
        """True when this (statement) purl names the (finding) purl ``other``."""
        if (self.type, self.namespace, self.name) != (other.type, other.namespace, other.name):
            return False
        if self.version is not None and self.version != other.version:
            return False
        theirs = dict(other.qualifiers)
        return all(theirs.get(key, value) == value for key, value in self.qualifiers)


@dataclass(frozen=True)
class VexStatement:
    """One statement: vulnerability names, products (empty: all), status and why."""

    vulnerabilities: frozenset[str]
    products: tuple[ProductKey, ...]
    status: str
    justification: str = ""
    impact: str = ""
    timestamp: str = ""
    origin: str = ""

    def covers(self, keys: Sequence[ProductKey]) -> bool:
        return not self.products or any(mine.covers(key) for mine in self.products for key in keys)

    @property
    def why(self) -> str:
        return self.justification or self.impact or self.status


@dataclass(frozen=True)
class VexDocument:
    """The usable statements of one or more VEX files, and what was wrong with the others."""

    statements: tuple[VexStatement, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class VexOutcome:
    """Findings split by VEX: kept, hidden (with the reason), and one summary line per reason or status."""

    kept: tuple[Finding, ...]
    hidden: tuple[IgnoredFinding, ...]
    summary: tuple[str, ...]


def product_key(text: str) -> ProductKey | None:
    """The comparable form of a purl; None when ``text`` is not one."""
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    return ProductKey(
        purl.type.lower(), (purl.namespace or "").lower(), purl.name.lower(), purl.version or None,
        tuple(sorted(qualifiers.items())),
    )  # fmt: skip


def package_keys(package: Package) -> tuple[ProductKey, ...]:
    """The purl keys a statement may use for ``package``: its own, and its Debian source package's."""
    keys = [product_key(package.purl)]
    source_name = package.source_name or package.name
    source_version = package.source_version or package.version
    if (source_name, source_version) != (package.name, package.version):
        keys.append(product_key(replace(package, name=source_name, version=source_version).purl))
    return tuple(key for key in keys if key is not None)


def load_vex_files(paths: Iterable[Path]) -> VexDocument:
    """The statements of every VEX file in ``paths``; VexFileError for a file that cannot be used."""
    statements: list[VexStatement] = []
    warnings: list[str] = []
    for path in paths:
        document = parse_vex_document(_load_json(path), str(path))
        statements.extend(document.statements)
        warnings.extend(document.warnings)
    return VexDocument(tuple(statements), tuple(warnings))


def _load_json(path: Path) -> Any:
    return load_json_file(path, MAX_VEX_FILE_BYTES, VexFileError, "VEX file")


def parse_vex_document(document: Any, origin: str) -> VexDocument:
    """The statements of a loaded OpenVEX or CycloneDX VEX document."""
    if isinstance(document, dict) and isinstance(document.get("statements"), list):
        return _openvex(document, origin)
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return _cyclonedx(document, origin)
    raise VexFileError(f"{origin}: neither an OpenVEX document (statements) nor a CycloneDX VEX document")


def _openvex(document: dict[str, Any], origin: str) -> VexDocument:
    default_time = _text(document.get("timestamp"))
    statements: list[VexStatement] = []
    warnings: list[str] = []
    for number, entry in enumerate(document["statements"], 1):
        where = f"{origin}: statement {number}"
        try:
            statements.append(_openvex_statement(entry, where, default_time))
        except ValueError as error:
            warnings.append(f"{where}: {error}; not used")
    return VexDocument(tuple(statements), tuple(warnings))


def _openvex_statement(entry: Any, where: str, default_time: str) -> VexStatement:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    names = _vulnerability_names(entry.get("vulnerability"))
    status = _text(entry.get("status"))
    justification, impact = _text(entry.get("justification")), _text(entry.get("impact_statement"))
    _check(names, status, justification, impact)
    products = tuple(_openvex_products(entry.get("products")))
    timestamp = _text(entry.get("timestamp")) or default_time
    return VexStatement(names, products, status, justification, impact, timestamp, where)


def _check(names: frozenset[str], status: str, justification: str, impact: str) -> None:
    if not names:
        raise ValueError("no vulnerability name")
    if status not in STATUSES:
        raise ValueError(f"unknown status {status[:40]!r}")
    if status == "not_affected" and not (justification or impact):
        raise ValueError("not_affected without a justification or impact_statement is invalid")


def _vulnerability_names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value.strip()} - {""})
    if not isinstance(value, dict):
        return frozenset()
    raw = value.get("aliases")
    aliases = raw if isinstance(raw, list) else []
    names = (value.get("name"), value.get("@id"), *aliases)
    return frozenset(n.strip() for n in names if isinstance(n, str) and n.strip())


def _openvex_products(value: Any) -> Iterator[ProductKey]:
    """Package keys named by a statement's products; nothing when it names a whole product (all apply)."""
    keys: list[ProductKey] = []
    for number, product in enumerate(value if isinstance(value, list) else [], 1):
        ids = _product_ids(product)
        subcomponents = product.get("subcomponents") if isinstance(product, dict) else None
        if isinstance(subcomponents, list) and subcomponents:
            ids = [i for sub in subcomponents for i in _product_ids(sub)]
        found = [product_key(i) for i in ids if i.startswith("pkg:")]
        if not ids or None in found:
            raise ValueError(f"product {number} has no usable @id or purl")
        if not found or all(key is not None and key.type in _WHOLE_PRODUCT_TYPES for key in found):
            return  # the statement is about the whole product
        keys.extend(key for key in found if key is not None)
    yield from keys


def _product_ids(product: Any) -> list[str]:
    if isinstance(product, str):
        return [product]
    if not isinstance(product, dict):
        return []
    identifiers = product.get("identifiers")
    purl = identifiers.get("purl") if isinstance(identifiers, dict) else None
    return [i for i in (product.get("@id"), purl) if isinstance(i, str)]


def _cyclonedx(document: dict[str, Any], origin: str) -> VexDocument:
    from rampart.sbom.cyclonedx_in import walk_components

    refs = {
        c["bom-ref"]: c.get("purl") for c in walk_components(document) if isinstance(c.get("bom-ref"), str)
    }
    statements: list[VexStatement] = []
    warnings: list[str] = []
    vulnerabilities = document.get("vulnerabilities")
    metadata = document.get("metadata")
    default_time = _text(metadata.get("timestamp")) if isinstance(metadata, dict) else ""
    for number, entry in enumerate(vulnerabilities if isinstance(vulnerabilities, list) else [], 1):
        where = f"{origin}: vulnerability {number}"
        try:
            statement = _cyclonedx_statement(entry, refs, where, default_time)
        except ValueError as error:
            warnings.append(f"{where}: {error}; not used")
            continue
        if statement is not None:
            statements.append(statement)
    return VexDocument(tuple(statements), tuple(warnings))


def _cyclonedx_statement(
    entry: Any, refs: dict[str, Any], where: str, default_time: str
) -> VexStatement | None:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    analysis = entry.get("analysis")
    if not isinstance(analysis, dict) or "state" not in analysis:
        return None  # a vulnerability without analysis says nothing about exploitability
    state = _text(analysis.get("state"))
    if state not in _CYCLONEDX_STATES:
        raise ValueError(f"unknown analysis state {state[:40]!r}")
    status = _CYCLONEDX_STATES[state]
    justification = _text(analysis.get("justification")) or (
        "false_positive" if state == "false_positive" else ""
    )
    impact = _text(analysis.get("detail"))
    names = _cyclonedx_names(entry)
    _check(names, status, justification, impact)
    products = _cyclonedx_products(entry.get("affects"), refs)
    timestamp = _text(analysis.get("lastUpdated")) or default_time
    return VexStatement(names, products, status, justification, impact, timestamp, where)


def _cyclonedx_names(entry: dict[str, Any]) -> frozenset[str]:
    raw = entry.get("references")
    references = raw if isinstance(raw, list) else []
    names = [entry.get("id"), *(r.get("id") for r in references if isinstance(r, dict))]
    return frozenset(n.strip() for n in names if isinstance(n, str) and n.strip())


def _cyclonedx_products(affects: Any, refs: dict[str, Any]) -> tuple[ProductKey, ...]:
    entries = [a.get("ref") for a in affects if isinstance(a, dict)] if isinstance(affects, list) else []
    if not entries:
        return ()
    keys = [key for ref in entries if (key := _resolve(ref, refs)) is not None]
    if not keys:
        raise ValueError("none of its affects[].ref names a component with a purl")
    return tuple(keys)


def _resolve(ref: Any, refs: dict[str, Any]) -> ProductKey | None:
    if not isinstance(ref, str):
        return None
    if ref.startswith("urn:cdx:") and "#" in ref:
        ref = ref.rsplit("#", 1)[1]
    target = refs.get(ref, ref)
    return product_key(target) if isinstance(target, str) and target.startswith("pkg:") else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def apply_vex(findings: Iterable[Finding], statements: Sequence[VexStatement]) -> VexOutcome:
    """Split findings: those a not_affected/fixed statement covers are hidden, with the reason."""
    by_name: dict[str, list[tuple[int, VexStatement]]] = {}
    for order, each in enumerate(statements):
        for name in each.vulnerabilities:
            by_name.setdefault(name, []).append((order, each))
    kept: list[Finding] = []
    hidden: list[IgnoredFinding] = []
    counts: Counter[str] = Counter()
    for finding in findings:
        statement = _latest(finding, by_name)
        if statement is not None and statement.status in HIDING:
            hidden.append(IgnoredFinding(finding, f"VEX {statement.status}: {statement.why}"))
            counts[f"hidden by VEX: {statement.why}"] += 1
        else:
            kept.append(finding)
            if statement is not None:
                counts[f"kept, VEX says {statement.status}"] += 1
    return VexOutcome(tuple(kept), tuple(hidden), _summary(counts))


def _latest(finding: Finding, by_name: dict[str, list[tuple[int, VexStatement]]]) -> VexStatement | None:
    names = {finding.vulnerability_id, *finding.advisory_ids, *finding.aliases}
    candidates = {order: s for name in names for order, s in by_name.get(name, ())}
    if not candidates:
        return None
    keys = package_keys(finding.package)
    matching = [(s.timestamp, order, s) for order, s in candidates.items() if s.covers(keys)]
    return max(matching, key=lambda item: (item[0], item[1]))[2] if matching else None


def _summary(counts: Counter[str]) -> tuple[str, ...]:
    lines = []
    for what, count in sorted(counts.items()):
        lines.append(f"{count} finding{'s' if count != 1 else ''} {what}")
    return tuple(lines)
