"""VEX: OpenVEX and CycloneDX VEX statements hide not_affected/fixed findings and say why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rampart.model import Finding, Package, Severity
from rampart.triage.vex import VexFileError, apply_vex, load_vex_files, parse_vex_document

LIBC6 = Package(
    "libc6", "2.31-13+deb11u5", "Debian:11", "/var/lib/dpkg/status", "dpkg", "glibc", "2.31-13+deb11u5"
)
LODASH = Package("lodash", "4.17.20", "npm", "/app/node_modules/lodash/package.json", "npm")


def _finding(vuln: str, package: Package, aliases: tuple[str, ...] = ()) -> Finding:
    return Finding(vuln, package, (vuln,), Severity.HIGH, (), aliases=aliases)


def _openvex(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex-1",
        "author": "x",
        "timestamp": "2026-01-01T00:00:00Z",
        "version": 1,
        "statements": list(statements),
    }


def _statement(vuln: Any, status: str, products: Any = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"vulnerability": vuln, "status": status, **extra}
    if products is not None:
        entry["products"] = products
    return entry


def _write(tmp_path: Path, document: Any, name: str = "vex.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


FINDINGS = (
    _finding("CVE-2021-1", LIBC6),
    _finding("CVE-2021-2", LODASH, aliases=("GHSA-aaaa",)),
    _finding("CVE-2021-3", LODASH),
)


def test_openvex_not_affected_hides_with_its_justification(tmp_path: Path) -> None:
    document = _openvex(
        _statement({"name": "CVE-2021-1"}, "not_affected", [{"@id": "pkg:deb/debian/glibc?distro=debian-11"}],
                   justification="vulnerable_code_not_in_execute_path"),
        _statement({"name": "GHSA-aaaa"}, "fixed", [{"@id": "pkg:npm/lodash@4.17.20"}]),
        _statement("CVE-2021-3", "under_investigation", ["pkg:npm/lodash@4.17.20"]),
    )  # fmt: skip
    vex = load_vex_files([_write(tmp_path, document)])
    assert vex.warnings == ()
    outcome = apply_vex(FINDINGS, vex.statements)
    assert outcome.kept == (FINDINGS[2],)
    assert [(h.finding, h.reason) for h in outcome.hidden] == [
        (FINDINGS[0], "VEX not_affected: vulnerable_code_not_in_execute_path"),
        (FINDINGS[1], "VEX fixed: fixed"),
    ]
    assert outcome.summary == (
        "1 finding hidden by VEX: fixed",
        "1 finding hidden by VEX: vulnerable_code_not_in_execute_path",
        "1 finding kept, VEX says under_investigation",
    )


def test_not_affected_without_justification_is_reported_not_used() -> None:
    vex = parse_vex_document(_openvex(_statement({"name": "CVE-2021-1"}, "not_affected")), "v.json")
    assert vex.statements == ()
    assert vex.warnings == (
        "v.json: statement 1: not_affected without a justification or impact_statement is invalid; not used",
    )


def test_impact_statement_is_enough_and_no_products_applies_to_all() -> None:
    document = _openvex(
        _statement({"name": "X", "aliases": ["CVE-2021-3"]}, "not_affected", impact_statement="no")
    )
    outcome = apply_vex(FINDINGS, parse_vex_document(document, "v").statements)
    assert [h.reason for h in outcome.hidden] == ["VEX not_affected: no"]


def test_image_product_with_subcomponents() -> None:
    product = {"@id": "pkg:oci/app@sha256%3Aabc", "subcomponents": [{"@id": "pkg:npm/lodash"}]}
    other = {"@id": "pkg:oci/app@sha256%3Aabc", "subcomponents": [{"@id": "pkg:npm/other@1"}]}
    document = _openvex(
        _statement({"name": "CVE-2021-3"}, "not_affected", [product], justification="component_not_present"),
        _statement({"name": "CVE-2021-1"}, "not_affected", [other], justification="component_not_present"),
    )
    outcome = apply_vex(FINDINGS, parse_vex_document(document, "v").statements)
    assert [h.finding for h in outcome.hidden] == [FINDINGS[2]]


def test_purl_matching_rules() -> None:
    cases = {
        "pkg:npm/lodash@4.17.20": True,
        "pkg:npm/lodash": True,
        "pkg:npm/lodash@4.17.21": False,
        "pkg:npm/LODASH@4.17.20?arch=x": True,
        "pkg:deb/debian/libc6@2.31-13%2Bdeb11u5?arch=amd64&distro=debian-11": True,
        "pkg:deb/debian/libc6?distro=debian-12": False,
        "pkg:deb/debian/glibc@2.31-13%2Bdeb11u5": True,
    }
    findings = (_finding("CVE-9", LODASH), _finding("CVE-9", LIBC6))
    for purl, hidden in cases.items():
        statement = _statement(
            "CVE-9", "not_affected", [purl], justification="inline_mitigations_already_exist"
        )
        outcome = apply_vex(findings, parse_vex_document(_openvex(statement), "v").statements)
        assert (len(outcome.hidden) == 1) is hidden, purl


def test_latest_statement_wins() -> None:
    document = _openvex(
        _statement("CVE-2021-3", "affected", timestamp="2026-02-01T00:00:00Z"),
        _statement("CVE-2021-3", "not_affected", justification="component_not_present"),
    )
    outcome = apply_vex(FINDINGS, parse_vex_document(document, "v").statements)
    assert outcome.hidden == () and outcome.summary == ("1 finding kept, VEX says affected",)


def _cyclonedx_vex(vulnerabilities: list[dict[str, Any]]) -> dict[str, Any]:
    components = [
        {"type": "library", "name": "lodash", "bom-ref": "lodash-ref", "purl": "pkg:npm/lodash@4.17.20"}
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": components,
        "vulnerabilities": vulnerabilities,
    }


def test_cyclonedx_vex(tmp_path: Path) -> None:
    document = _cyclonedx_vex(
        [
            {"id": "CVE-2021-3", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
             "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#lodash-ref"}]},
            {"id": "CVE-2021-1", "analysis": {"state": "false_positive"}, "affects": [{"ref": "pkg:deb/debian/libc6"}]},
            {"id": "GHSA-x", "references": [{"id": "CVE-2021-2"}], "analysis": {"state": "resolved"},
             "affects": [{"ref": "lodash-ref"}]},
            {"id": "CVE-2021-4", "analysis": {"state": "not_affected"}},
            {"id": "CVE-2021-5", "analysis": {"state": "bogus"}},
            {"id": "CVE-2021-6", "analysis": {"state": "resolved"}, "affects": [{"ref": "nowhere"}]},
            {"id": "CVE-2021-7"},
        ]
    )  # fmt: skip
    vex = load_vex_files([_write(tmp_path, document)])
    origin = str(tmp_path / "vex.json")
    assert vex.warnings == (
        f"{origin}: vulnerability 4: not_affected without a justification or impact_statement is invalid; not used",
        f"{origin}: vulnerability 5: unknown analysis state 'bogus'; not used",
        f"{origin}: vulnerability 6: none of its affects[].ref names a component with a purl; not used",
    )
    outcome = apply_vex(FINDINGS, vex.statements)
    assert outcome.kept == ()
    assert [h.reason for h in outcome.hidden] == [
        "VEX not_affected: false_positive",
        "VEX fixed: fixed",
        "VEX not_affected: code_not_reachable",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "neither an OpenVEX document"),
        (b'{"statements": {}}', "neither an OpenVEX document"),
        (b"\x00\x01", "not valid JSON"),
    ],
)
def test_malformed_files(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    with pytest.raises(VexFileError, match=message) as caught:
        load_vex_files([path])
    assert "\n" not in caught.value.message


def test_missing_and_huge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VexFileError, match="cannot read VEX file"):
        load_vex_files([tmp_path / "absent.json"])
    import rampart.triage.vex as vex_module

    monkeypatch.setattr(vex_module, "MAX_VEX_FILE_BYTES", 10)
    with pytest.raises(VexFileError, match="larger than 10 bytes"):
        load_vex_files([_write(tmp_path, _openvex())])


def test_hostile_statements_are_skipped_rest_used() -> None:
    good = _statement("CVE-2021-3", "fixed")
    document = _openvex("x", _statement({}, "fixed"), _statement("CVE-1", "maybe\n" * 50), good,
                        _statement("CVE-2021-3", "fixed", [{"@id": 5}, "pkg:%%"]))  # fmt: skip
    vex = parse_vex_document(document, "v")
    assert len(vex.statements) == 1
    assert [w.split(": ", 2)[2] for w in vex.warnings] == [
        "not an object; not used",
        "no vulnerability name; not used",
        "unknown status 'maybe\\nmaybe\\nmaybe\\nmaybe\\nmaybe\\nmaybe\\nmayb'; not used",
        "product 1 has no usable @id or purl; not used",
    ]
    assert all("\n" not in w for w in vex.warnings)
    assert len(apply_vex(FINDINGS, vex.statements).hidden) == 1
