"""The SPDX 2.3 SBOM: parsed and validated by spdx-tools, stable ids, and a golden file."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from rampart.model import Inventory, ScanResult
from rampart.report.spdx import render_spdx
from unit.report.sample import EVIL, JINJA, NOW, XORG, sample_result

GOLDEN = Path(__file__).parent / "golden" / "scan.spdx.json"
DOCUMENT_ID = uuid.UUID("0f5a3d1e-6c2b-4e7f-8a90-1b2c3d4e5f60")


def _valid(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    messages = validate_full_spdx_document(JsonLikeDictParser().parse(document), "SPDX-2.3")
    assert [m.validation_message for m in messages] == []
    return document


def _packages(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["SPDXID"]: p for p in document["packages"]}


def test_spdx_matches_golden_file() -> None:
    text = render_spdx(sample_result(), NOW, DOCUMENT_ID)
    if os.environ.get("RAMPART_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    _valid(text)


def test_creation_info_and_namespace() -> None:
    document = _valid(render_spdx(sample_result(), NOW, DOCUMENT_ID))
    assert document["spdxVersion"] == "SPDX-2.3" and document["dataLicense"] == "CC0-1.0"
    assert document["creationInfo"] == {
        "creators": ["Tool: rampart-0.1.0"],
        "created": "2026-11-28T12:00:00Z",
    }
    assert document["documentNamespace"].endswith(str(DOCUMENT_ID))
    assert document["documentNamespace"].startswith("https://spdx.org/spdxdocs/rampart-srv-rootfs-")


def test_each_document_gets_its_own_namespace_by_default() -> None:
    first = json.loads(render_spdx(sample_result(), NOW))["documentNamespace"]
    assert first != json.loads(render_spdx(sample_result(), NOW))["documentNamespace"]


def test_target_is_described_and_contains_every_package() -> None:
    result = sample_result()
    document = _valid(render_spdx(result, NOW, DOCUMENT_ID))
    packages = _packages(document)
    relations = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in document["relationships"]
    }
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Target") in relations
    contained = {related for _, kind, related in relations if kind == "CONTAINS"}
    assert contained == set(packages) - {"SPDXRef-Target"}
    assert len(contained) == len(result.inventory.packages) + 1
    distribution = packages["SPDXRef-OperatingSystem"]
    assert (distribution["name"], distribution["versionInfo"]) == ("debian", "11")
    assert distribution["primaryPackagePurpose"] == "OPERATING-SYSTEM"


def test_package_fields_and_purl() -> None:
    document = _valid(render_spdx(sample_result(), NOW, DOCUMENT_ID))
    jinja = next(p for p in document["packages"] if p["name"] == "jinja2")
    assert jinja["versionInfo"] == "2.10" and jinja["downloadLocation"] == "NOASSERTION"
    assert jinja["licenseConcluded"] == "NOASSERTION" and jinja["licenseDeclared"] == "NOASSERTION"
    assert jinja["externalRefs"] == [
        {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": JINJA.purl}
    ]
    assert JINJA.location in jinja["sourceInfo"]


def test_ids_are_sanitised_unique_and_stable() -> None:
    twin = replace(EVIL, location="/other/node_modules/evil/package.json")
    inventory = Inventory("/srv", None, (EVIL, twin, XORG))
    first = _valid(render_spdx(ScanResult(inventory, ()), NOW, DOCUMENT_ID))
    ids = [p["SPDXID"] for p in first["packages"]]
    assert len(ids) == len(set(ids)) == 4
    assert all(i.startswith("SPDXRef-") and i.replace("-", "").replace(".", "").isalnum() for i in ids)
    reordered = Inventory("/srv", None, (XORG, twin, EVIL))
    second = _valid(render_spdx(ScanResult(reordered, ()), NOW, DOCUMENT_ID))
    assert set(ids) == {p["SPDXID"] for p in second["packages"]}


def test_declared_licenses_only_when_valid_expressions() -> None:
    inventory = Inventory("/srv", None, (XORG, JINJA))
    licenses = {JINJA: "bsd-3-clause", XORG: "GPL-2+ with local terms"}
    document = _valid(render_spdx(ScanResult(inventory, ()), NOW, DOCUMENT_ID, licenses))
    by_name = {p["name"]: p for p in document["packages"]}
    assert by_name["jinja2"]["licenseDeclared"] == "BSD-3-Clause"
    assert by_name["xserver-xorg-core"]["licenseDeclared"] == "NOASSERTION"
    assert "GPL-2+ with local terms" in by_name["xserver-xorg-core"]["comment"]


def test_hostile_names_escaped_and_odd_targets_give_valid_namespaces() -> None:
    text = render_spdx(sample_result(), NOW, DOCUMENT_ID)
    assert text.isascii() and "\x1b" not in text
    for target in ("/", "", "../..", "C:\\évil #x?y", "a" * 5000):
        document = _valid(render_spdx(ScanResult(Inventory(target, None, ()), ()), NOW, DOCUMENT_ID))
        assert "#" not in document["documentNamespace"] and len(document["documentNamespace"]) < 200


def test_source_package_rides_in_the_purl_upstream_qualifier() -> None:
    document = _valid(render_spdx(sample_result(), NOW, DOCUMENT_ID))
    xorg = next(p for p in document["packages"] if p["name"] == "xserver-xorg-core")
    assert xorg["externalRefs"][0]["referenceLocator"] == XORG.purl + "&upstream=xorg-server"


def test_a_package_managers_claim_rides_in_an_annotation_and_reads_back(tmp_path: Path) -> None:
    from rampart.model import Package
    from rampart.sbom import read_sbom

    managed = Package(
        "requests", "2.28.1", "PyPI", "/usr/lib/python3/dist-packages", "python", managed_by="dpkg"
    )
    inventory = Inventory("rootfs", None, (managed, JINJA))
    document = _valid(render_spdx(ScanResult(inventory, ()), NOW, DOCUMENT_ID))
    by_name = {p["name"]: p for p in document["packages"]}
    assert [a["comment"] for a in by_name["requests"]["annotations"]] == ["rampart:managed_by=dpkg"]
    assert "annotations" not in by_name["jinja2"]
    foreign = {
        **by_name["jinja2"],
        "annotations": [{**by_name["requests"]["annotations"][0], "annotator": "Tool: other"}],
    }
    document["packages"] = [foreign if p["name"] == "jinja2" else p for p in document["packages"]]
    path = tmp_path / "sbom.spdx.json"
    path.write_text(json.dumps(document))
    read = {p.name: p for p in read_sbom(path).packages}
    assert read["requests"].managed_by == "dpkg"
    assert read["jinja2"].managed_by is None  # only rampart's own annotations are taken
