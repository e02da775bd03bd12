"""Packages of an image name the layer that brought them, and every report shows it (only when known)."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

from rampart.advisories.importer import import_paths
from rampart.image import ImageTarget, open_image
from rampart.inventory import collect_inventory
from rampart.model import Finding, Inventory, Package, ScanResult, Severity
from rampart.report.cyclonedx import render_cyclonedx
from rampart.report.json import render_json
from rampart.report.scan_sarif import render_scan_sarif
from rampart.report.spdx import render_spdx
from rampart.report.table import render_table, short_digest
from rampart.scan import ScanOptions, scan_target
from rampart.target import DirectoryTarget
from unit.image.imagebuild import layer, oci_image
from unit.report.sample import JINJA, NOW, XORG

LAYER = "sha256:" + "ab" * 32


def _pack(root: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(root, arcname=".")
    return out.getvalue()


def _two_layer_image(root: Path, tmp_path: Path) -> ImageTarget:
    """The Debian root as the base layer; a second layer upgrades bash (its list file and the status)."""
    status = (root / "var/lib/dpkg/status").read_bytes()
    upgrade = layer(
        [
            ("file", "var/lib/dpkg/status", status),
            ("file", "var/lib/dpkg/info/bash.list", b"/bin/bash\n"),
        ]
    )
    return open_image(oci_image([_pack(root), upgrade]).write_dir(tmp_path / "img"))


def test_each_image_package_names_the_layer_that_brought_it(debian11_root: Path, tmp_path: Path) -> None:
    with _two_layer_image(debian11_root, tmp_path) as image:
        first, second = (ref.digest for ref in image.layers)
        packages = {p.name: p for p in collect_inventory(image, workers=1).packages}
    assert packages["bash"].layer == second
    assert (packages["lodash"].layer, packages["requests"].layer) == (first, first)
    assert all(p.layer in (first, second) for p in packages.values())


def test_packages_heard_during_the_walk_already_name_their_layer(debian11_root: Path, tmp_path: Path) -> None:
    heard: list[Package] = []
    with _two_layer_image(debian11_root, tmp_path) as image:
        inventory = collect_inventory(image, workers=1, found=heard.extend)
    assert heard and all(p.layer for p in heard)
    assert set(heard) == set(inventory.packages)


def test_a_directory_target_has_no_layers(debian11_root: Path) -> None:
    inventory = collect_inventory(DirectoryTarget(debian11_root), workers=1)
    assert inventory.packages and all(p.layer is None for p in inventory.packages)


def _result(with_layer: bool) -> ScanResult:
    xorg = replace(XORG, layer=LAYER) if with_layer else XORG
    finding = Finding("CVE-2023-0494", xorg, ("DSA-5380-1",), Severity.HIGH, ("2:1.20.11-1+deb11u6",))
    return ScanResult(Inventory("example/app:1", None, (xorg, JINJA)), (finding,))


def test_json_shows_the_layer_only_when_known() -> None:
    document = json.loads(render_json(_result(True), NOW))
    assert document["findings"][0]["package"]["layer"] == LAYER
    assert [p.get("layer") for p in document["packages"]] == [LAYER, None]
    assert "layer" not in document["packages"][1]
    assert "layer" not in render_json(_result(False), NOW)


def test_table_has_a_short_layer_column_only_when_a_package_has_a_layer() -> None:
    with_layers = render_table(_result(True), NOW, width=200)
    assert "Layer" in with_layers and "ab" * 6 in with_layers and "ab" * 7 not in with_layers
    assert "Layer" not in render_table(_result(False), NOW, width=200)
    assert short_digest(LAYER) == "ab" * 6 and short_digest(None) == "" and short_digest("x\x1b") == "x\\x1b"


def test_sboms_carry_the_layer_as_a_property_and_a_comment() -> None:
    components = json.loads(render_cyclonedx(_result(True), NOW))["components"]
    xorg = next(c for c in components if c["name"] == XORG.name)
    assert {"name": "rampart:layer", "value": LAYER} in xorg["properties"]
    packages = json.loads(render_spdx(_result(True), NOW))["packages"]
    assert next(p for p in packages if p["name"] == XORG.name)["comment"] == f"brought by image layer {LAYER}"
    assert "comment" not in next(p for p in packages if p["name"] == JINJA.name)


def test_sarif_names_the_layer_in_the_location_and_result() -> None:
    result = json.loads(render_scan_sarif(_result(True), NOW))["runs"][0]["results"][0]
    assert result["locations"][0]["properties"] == {"layer": LAYER}
    assert result["properties"]["layer"] == LAYER
    plain = json.loads(render_scan_sarif(_result(False), NOW))["runs"][0]["results"][0]
    assert "properties" not in plain["locations"][0] and "layer" not in plain["properties"]
    assert plain["partialFingerprints"] == result["partialFingerprints"]  # a rebuild keeps the finding


def test_an_image_scan_reports_findings_with_their_layer_as_sarif(
    debian11_root: Path, tmp_path: Path
) -> None:
    record = {
        "id": "DSA-9999-1",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2023-0494"],
        "affected": [
            {
                "package": {"ecosystem": "Debian:11", "name": "xorg-server"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2:1.20.11-1+deb11u6"}]}
                ],
            }
        ],
    }
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "DSA-9999-1.json").write_text(json.dumps(record))
    import_paths(tmp_path / "db.sqlite3", [tmp_path / "osv"], now=NOW)
    info = debian11_root / "var/lib/dpkg/info"  # the base layer installed xorg; the second upgrades bash
    info.mkdir(parents=True, exist_ok=True)
    (info / "xserver-xorg-core.list").write_text("/usr/lib/xorg/Xorg\n")
    with _two_layer_image(debian11_root, tmp_path) as image:
        first = image.layers[0].digest
        result = scan_target(image, ScanOptions(tmp_path / "db.sqlite3", NOW))
    (finding,) = [f for f in result.findings if f.package.name == "xserver-xorg-core"]
    assert finding.package.layer == first
    (sarif,) = json.loads(render_scan_sarif(result, NOW))["runs"][0]["results"]
    assert sarif["ruleId"] == "CVE-2023-0494" and sarif["locations"][0]["properties"] == {"layer": first}
