"""One root filesystem four ways: as a directory, as image archives, and through the SBOMs rampart wrote.

The same packages and the same findings must come out of each, through the real CLI and the real
Debian advisory data.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fixtures.rootfs import build_debian11_rootfs
from integration.cli import rampart
from unit.image import imagebuild

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def debian_db(vulndata_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    done = rampart("db", "import", vulndata_dir / "osv" / "Debian" / "all.zip", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    return cache


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rootfs")
    build_debian11_rootfs(root)
    return root


def _layer(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    return buffer.getvalue()


def _scan(cache: Path, *args: str | Path) -> dict[str, Any]:
    done = rampart("scan", *args, "--format", "json", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _packages(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["name"], p["version"]) for p in document["packages"]}


def _findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["id"], f["package"]["name"]) for f in document["findings"]}


def test_directory_images_and_sboms_give_the_same_packages_and_findings(
    debian_db: Path, rootfs: Path, tmp_path: Path
) -> None:
    directory = _scan(debian_db, rootfs)
    layer = _layer(rootfs)
    archive = imagebuild.oci_image([imagebuild.gz(layer)]).write_tar(tmp_path / "image.oci.tar")
    saved = imagebuild.docker_save(tmp_path / "image.docker.tar", [layer])
    documents = {
        "oci-archive": _scan(debian_db, "image", archive),
        "docker save": _scan(debian_db, "image", saved),
    }
    for sbom_format in ("cyclonedx", "spdx"):
        sbom = tmp_path / f"sbom.{sbom_format}.json"
        done = rampart("sbom", rootfs, "--format", sbom_format, "--output", sbom, cache_dir=debian_db)
        assert done.returncode == 0, done.stderr
        documents[sbom_format] = _scan(debian_db, "sbom", sbom)
    assert _findings(directory) and len(_packages(directory)) > 10
    for how, document in documents.items():
        assert _packages(document) == _packages(directory), how
        assert _findings(document) == _findings(directory), how


def test_scan_writes_cyclonedx_and_spdx_with_the_findings(debian_db: Path, rootfs: Path) -> None:
    done = rampart("scan", rootfs, "--format", "cyclonedx", cache_dir=debian_db)
    bom = json.loads(done.stdout)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6" and bom["vulnerabilities"]
    spdx = json.loads(rampart("scan", rootfs, "--format", "spdx", cache_dir=debian_db).stdout)
    assert spdx["spdxVersion"] == "SPDX-2.3" and len(spdx["packages"]) > 10


def test_vex_not_affected_hides_a_finding_and_says_so(debian_db: Path, rootfs: Path, tmp_path: Path) -> None:
    before = _scan(debian_db, rootfs)
    finding = before["findings"][0]
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/1",
        "author": "security team",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": finding["id"]},
                "products": [{"@id": finding["package"]["purl"]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }
    path = tmp_path / "vex.json"
    path.write_text(json.dumps(vex))
    after = _scan(debian_db, rootfs, "--vex", path)
    hidden = {(f["id"], f["package"]["name"]) for f in after["findings"]}
    assert (finding["id"], finding["package"]["name"]) not in hidden
    assert len(after["findings"]) == len(before["findings"]) - 1
    assert any("VEX" in w for w in after["warnings"])


def test_scan_image_of_a_missing_or_forged_archive_is_one_line(debian_db: Path, tmp_path: Path) -> None:
    missing = rampart("scan", "image", tmp_path / "nope.tar", cache_dir=debian_db)
    forged = imagebuild.docker_save(tmp_path / "forged.tar", [b"x" * 1024], stored=[b"y" * 1024])
    bad = rampart("scan", "image", forged, cache_dir=debian_db)
    for done in (missing, bad):
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_function_bundle_is_scanned_without_extracting(vulndata_dir: Path, tmp_path: Path) -> None:
    import zipfile

    pypi_db = tmp_path / "cache"
    imported = rampart("db", "import", vulndata_dir / "osv" / "PyPI" / "all.zip", cache_dir=pypi_db)
    assert imported.returncode == 0, imported.stderr

    bundle = tmp_path / "function.zip"
    metadata = "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n\n"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
        archive.writestr("urllib3-1.26.4.dist-info/METADATA", metadata)  # as `pip install -t .` leaves it
        archive.writestr("../escape.txt", "never written anywhere")
    before = sorted(tmp_path.parent.iterdir())
    document = _scan(pypi_db, "zip", bundle)
    assert ("urllib3", "1.26.4") in _packages(document)
    assert any(f["package"]["name"] == "urllib3" for f in document["findings"])
    assert any("escape.txt" in str(error) for error in document["errors"])
    assert sorted(tmp_path.parent.iterdir()) == before
