"""The CycloneDX 1.6 SBOM: valid per the CycloneDX library's strict validator, stable, and a golden file."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from rampart.model import Finding, Inventory, ScanResult, Severity
from rampart.report.cyclonedx import bom_ref, render_cyclonedx
from unit.report.sample import JINJA, NOW, XORG, sample_result

GOLDEN = Path(__file__).parent / "golden" / "scan.cdx.json"
SERIAL = uuid.UUID("7b0c7c4e-0d1e-4a8a-9c55-2f1d3c6b9a10")


def _valid(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)[:2000]
    document: dict[str, Any] = json.loads(text)
    return document


def test_cyclonedx_matches_golden_file() -> None:
    text = render_cyclonedx(sample_result(), NOW, SERIAL)
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    _valid(text)


def test_metadata_names_tool_time_serial_and_target() -> None:
    document = _valid(render_cyclonedx(sample_result(), NOW, SERIAL))
    metadata = document["metadata"]
    assert document["specVersion"] == "1.6" and document["serialNumber"] == f"urn:uuid:{SERIAL}"
    assert metadata["tools"]["components"][0]["name"] == "rampart"
    assert datetime.fromisoformat(metadata["timestamp"]) == NOW
    assert metadata["component"] == {"bom-ref": "target", "name": "/srv/rootfs", "type": "file"}
    os_component = next(c for c in document["components"] if c["type"] == "operating-system")
    assert (os_component["name"], os_component["version"]) == ("debian", "11")


def test_one_component_per_package_with_unique_refs_and_properties() -> None:
    result = sample_result()
    document = _valid(render_cyclonedx(result, NOW, SERIAL))
    components = {c["bom-ref"]: c for c in document["components"] if c["type"] == "library"}
    assert set(components) == {bom_ref(p) for p in result.inventory.packages}
    xorg = components[bom_ref(XORG)]
    properties = {p["name"]: p["value"] for p in xorg["properties"]}
    assert properties["rampart:location"] == "/var/lib/dpkg/status"
    assert properties["rampart:source_name"] == "xorg-server"
    assert xorg["purl"].startswith("pkg:deb/debian/xserver-xorg-core@")
    root = next(d for d in document["dependencies"] if d["ref"] == "target")
    assert set(root["dependsOn"]) == {*components, "operating-system"}


def test_same_package_in_two_places_gets_two_components() -> None:
    other = replace(JINJA, location="/opt/venv/lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA")
    inventory = Inventory("/srv/rootfs", None, (JINJA, other))
    document = _valid(render_cyclonedx(ScanResult(inventory, ()), NOW, SERIAL))
    refs = [c["bom-ref"] for c in document["components"]]
    assert len(refs) == len(set(refs)) == 2
    assert "vulnerabilities" not in document


def test_vulnerabilities_carry_ratings_affects_and_fixes() -> None:
    document = _valid(render_cyclonedx(sample_result(), NOW, SERIAL))
    vulnerabilities = {(v["id"], v["affects"][0]["ref"]): v for v in document["vulnerabilities"]}
    jinja = vulnerabilities["CVE-2019-10906", bom_ref(JINJA)]
    assert jinja["source"]["name"] == "NVD"
    assert jinja["ratings"] == [{"severity": "critical"}]
    assert {"status": "unaffected", "version": "2.10.1"} in jinja["affects"][0]["versions"]
    assert jinja["recommendation"] == "Upgrade jinja2 to 2.10.1"
    assert {r["id"] for r in jinja["references"]} == {"PYSEC-2019-217", "GHSA-462w-v97r-4m45"}
    ignored = vulnerabilities["CVE-2020-28493", bom_ref(JINJA)]
    assert ignored["analysis"] == {"detail": "ignored by rule: not used", "response": ["will_not_fix"]}


def test_cvss_vector_becomes_a_scored_rating() -> None:
    finding = Finding(
        "CVE-2024-0001",
        XORG,
        ("DSA-1",),
        Severity.HIGH,
        (),
        cvss_score=7.5,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    )
    v2 = replace(
        finding, vulnerability_id="CVE-2009-0001", cvss_score=5.0, cvss_vector="AV:N/AC:L/Au:N/C:N/I:N/A:P"
    )
    result = ScanResult(Inventory("/", None, (XORG,)), (finding, v2))
    document = _valid(render_cyclonedx(result, NOW, SERIAL))
    ratings = {v["id"]: v["ratings"][0] for v in document["vulnerabilities"]}
    assert ratings["CVE-2024-0001"] == {
        "method": "CVSSv31",
        "score": 7.5,
        "severity": "high",
        "vector": "AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",  # the library drops the version prefix
    }
    assert ratings["CVE-2009-0001"]["method"] == "CVSSv2"
    assert "recommendation" not in document["vulnerabilities"][0]


def test_known_licenses_are_expressions_or_names() -> None:
    inventory = Inventory("/srv", None, (XORG, JINJA))
    licenses = {JINJA: "bsd-3-clause", XORG: "MIT and some local terms"}
    document = _valid(render_cyclonedx(ScanResult(inventory, ()), NOW, SERIAL, licenses))
    found = {c["name"]: c["licenses"] for c in document["components"]}
    assert found["jinja2"] == [{"expression": "BSD-3-Clause"}]
    assert found["xserver-xorg-core"] == [{"license": {"name": "MIT and some local terms"}}]


def test_hostile_names_stay_escaped_and_intact() -> None:
    text = render_cyclonedx(sample_result(), NOW, SERIAL)
    assert text.isascii() and "\x1b" not in text
    names = {c["name"] for c in _valid(text)["components"]}
    assert "evil\x1b[2J\nname" in names


def test_output_is_deterministic_and_serials_differ_by_default() -> None:
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert render_cyclonedx(sample_result(), later, SERIAL) == render_cyclonedx(
        sample_result(), later, SERIAL
    )
    first = json.loads(render_cyclonedx(sample_result(), NOW))["serialNumber"]
    second = json.loads(render_cyclonedx(sample_result(), NOW))["serialNumber"]
    assert first != second


def test_empty_inventory_is_a_valid_bom() -> None:
    document = _valid(render_cyclonedx(ScanResult(Inventory("/empty", None, ()), ()), NOW, SERIAL))
    assert document.get("components", []) == []
