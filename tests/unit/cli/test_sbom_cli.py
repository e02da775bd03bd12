"""``rampart sbom``: a real miniature root filesystem inventoried into CycloneDX and SPDX documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from typer.testing import CliRunner

from fixtures.rootfs import build_debian11_rootfs
from rampart.cli.sbom import sbom_command
from rampart.errors import RampartError

app = typer.Typer()
app.command(name="sbom")(sbom_command)
app.command(name="unused")(lambda: None)  # two commands, so "sbom" is invoked by name as in rampart


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rootfs")
    build_debian11_rootfs(root)
    return root


def test_cyclonedx_to_stdout_lists_the_packages(rootfs: Path) -> None:
    done = CliRunner().invoke(app, ["sbom", str(rootfs)])
    assert done.exit_code == 0, done.output
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(done.stdout) is None
    document = json.loads(done.stdout)
    names = {c["name"] for c in document["components"]}
    assert {"xserver-xorg-core", "jinja2", "lodash", "@babel/traverse"} <= names
    assert "vulnerabilities" not in document
    assert {"type": "operating-system", "name": "debian", "version": "11"}.items() <= {
        **next(c for c in document["components"] if c["type"] == "operating-system")
    }.items()


def test_spdx_to_a_file(rootfs: Path, tmp_path: Path) -> None:
    output = tmp_path / "sbom.spdx.json"
    done = CliRunner().invoke(app, ["sbom", str(rootfs), "--format", "spdx", "--output", str(output)])
    assert done.exit_code == 0, done.output
    assert done.stdout == ""
    document = json.loads(output.read_text())
    assert document["spdxVersion"] == "SPDX-2.3"
    contains = [r for r in document["relationships"] if r["relationshipType"] == "CONTAINS"]
    assert len(contains) == len(document["packages"]) - 1 > 5  # all but the target itself


def test_both_formats_list_the_same_purls(rootfs: Path) -> None:
    cyclonedx = json.loads(CliRunner().invoke(app, ["sbom", str(rootfs), "-f", "cyclonedx"]).stdout)
    spdx = json.loads(CliRunner().invoke(app, ["sbom", str(rootfs), "-f", "spdx"]).stdout)
    spdx_purls = {r["referenceLocator"] for p in spdx["packages"] for r in p.get("externalRefs", [])}
    normalised = {PackageURL.from_string(purl).to_string() for purl in spdx_purls}
    assert normalised == {c["purl"] for c in cyclonedx["components"] if "purl" in c}


def test_missing_target_is_a_one_line_error(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["sbom", str(tmp_path / "absent")])
    assert isinstance(done.exception, RampartError)
    assert "does not exist" in done.exception.message


def test_unknown_format_is_refused(rootfs: Path) -> None:
    done = CliRunner().invoke(app, ["sbom", str(rootfs), "--format", "xml"])
    assert done.exit_code == 2


@pytest.mark.parametrize("sbom_format", ["cyclonedx", "spdx"])
def test_sbom_read_back_gives_the_same_packages(rootfs: Path, tmp_path: Path, sbom_format: str) -> None:
    from rampart.inventory.collect import collect_inventory
    from rampart.sbom import read_sbom
    from rampart.target import open_target

    output = tmp_path / f"sbom.{sbom_format}.json"
    done = CliRunner().invoke(app, ["sbom", str(rootfs), "-f", sbom_format, "-o", str(output)])
    assert done.exit_code == 0, done.output
    found = collect_inventory(open_target(rootfs), workers=1).packages
    read = read_sbom(output)
    identity = [(p.ecosystem, p.name, p.version, p.source_name, p.source_version) for p in found]
    assert sorted(identity) == sorted(
        (p.ecosystem, p.name, p.version, p.source_name, p.source_version) for p in read.packages
    )
    assert read.os is not None and (read.os.id, read.os.version_id) == ("debian", "11")
