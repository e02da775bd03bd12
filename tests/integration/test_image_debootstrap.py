"""A debootstrap'ed Debian 12 root filesystem, scanned as a directory and as an image made of it.

The image is a docker save tarball written here (no daemon); both scans must list the same packages,
and as many dpkg packages as dpkg itself says are installed.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from fixtures.debootstrap import build_minbase
from integration.cli import rampart
from unit.image import imagebuild

pytestmark = pytest.mark.slow
SKIPPED = {"proc", "sys", "dev"}  # mount points in a real system: empty here


@pytest.fixture(scope="module")
def bookworm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_minbase(tmp_path_factory.mktemp("debootstrap") / "root")


def _layer(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if relative.parts[0] in SKIPPED and len(relative.parts) > 1:
                continue
            tar.add(path, arcname=str(relative), recursive=False)
    return buffer.getvalue()


def _purls(document: dict[str, object], kind: str) -> set[str]:
    components = document.get("components", [])
    assert isinstance(components, list)
    return {str(c["purl"]) for c in components if str(c.get("purl", "")).startswith(f"pkg:{kind}/")}


def _installed(root: Path) -> int:
    done = subprocess.run(
        ["dpkg-query", "--admindir", str(root / "var/lib/dpkg"), "-W", "-f", "${db:Status-Abbrev}\\n"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(1 for line in done.stdout.splitlines() if line.startswith("ii"))


def test_the_image_lists_what_the_directory_and_dpkg_list(bookworm: Path, tmp_path: Path) -> None:
    layer = _layer(bookworm)  # stored gzip-compressed, as docker does; diff_ids name the plain tar
    archive = imagebuild.docker_save(tmp_path / "bookworm.tar", [layer], stored=[gzip.compress(layer, 1)])
    documents = {}
    for how, args in (("directory", [bookworm]), ("image", ["image", archive])):
        done = rampart("sbom", *args, "--format", "cyclonedx", cache_dir=tmp_path / "cache")
        assert done.returncode == 0, done.stderr
        documents[how] = json.loads(done.stdout)
    debs = _purls(documents["directory"], "deb")
    assert len(debs) == _installed(bookworm) > 50
    assert _purls(documents["image"], "deb") == debs
    assert any("distro=debian-12" in purl for purl in debs)
