"""read_sbom: CycloneDX 1.4-1.6 and SPDX 2.2/2.3 into the same packages a directory scan finds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rampart.inventory import collect_inventory
from rampart.model import Inventory, OsRelease, Package
from rampart.sbom import SbomError, read_sbom
from rampart.sbom import document as sbom_document
from rampart.target import open_target

FIELDS = ("location", "extractor", "source_name", "source_version", "managed_by")


def _write(tmp_path: Path, document: Any, name: str = "sbom.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _cyclonedx(components: list[dict[str, Any]], version: str = "1.5", **extra: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": version, "version": 1, "components": components, **extra}


def _spdx(packages: list[dict[str, Any]], version: str = "SPDX-2.3") -> dict[str, Any]:
    return {"spdxVersion": version, "SPDXID": "SPDXRef-DOCUMENT", "name": "x", "packages": packages}


def _spdx_package(number: int, purl: str | None, **extra: Any) -> dict[str, Any]:
    refs = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]
    return {
        "SPDXID": f"SPDXRef-{number}",
        "name": f"p{number}",
        "externalRefs": refs if purl else [],
        **extra,
    }


def _component(package: Package, with_properties: bool) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "library", "name": package.name, "version": package.version}
    component["purl"] = package.purl
    if with_properties:
        values = {f"rampart:{name}": getattr(package, name) for name in FIELDS}
        component["properties"] = [{"name": k, "value": v} for k, v in values.items() if v is not None]
    return component


def _sbom_of(inventory: Inventory, version: str, with_properties: bool) -> dict[str, Any]:
    assert inventory.os is not None
    os_component = {"type": "operating-system", "name": inventory.os.id, "version": inventory.os.version_id}
    components = [_component(p, with_properties) for p in inventory.packages]
    return _cyclonedx([os_component, *components], version)


def _identity(packages: tuple[Package, ...]) -> set[tuple[str | None, ...]]:
    return {(p.ecosystem, p.name, p.version, p.source_name, p.source_version) for p in packages}


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_cyclonedx_of_a_directory_gives_its_packages(
    debian11_root: Path, tmp_path: Path, version: str
) -> None:
    inventory = collect_inventory(open_target(debian11_root))
    exact = read_sbom(_write(tmp_path, _sbom_of(inventory, version, with_properties=True)))
    assert exact.packages == inventory.packages
    assert exact.errors == () and exact.warnings == ()
    assert exact.os == OsRelease("debian", "11")
    assert exact.inventory().os is not None and exact.inventory().os.ecosystem == "Debian:11"
    plain = read_sbom(_write(tmp_path, _sbom_of(inventory, version, with_properties=False), "plain.json"))
    libc6 = next(p for p in plain.packages if p.name == "libc6")
    assert (libc6.source_name, libc6.extractor) == ("libc6", "sbom")  # no upstream qualifier, no properties
    assert {(p.ecosystem, p.name, p.version) for p in plain.packages} == {
        (p.ecosystem, p.name, p.version) for p in inventory.packages
    }


def test_upstream_qualifier_gives_the_debian_source(tmp_path: Path) -> None:
    purls = [
        "pkg:deb/debian/libc6@2.31-13%2Bdeb11u5?arch=amd64&upstream=glibc&distro=debian-11",
        "pkg:deb/debian/libtiff5@4.2.0-1%2Bdeb11u3%2Bb1?distro=debian-11&upstream=tiff%404.2.0-1%2Bdeb11u3",
        "pkg:deb/debian/xserver-xorg-core@2%3A1.20.11-1?distro=bullseye",
    ]
    read = read_sbom(
        _write(tmp_path, _cyclonedx([{"type": "library", "name": "x", "purl": p} for p in purls]))
    )
    assert _identity(read.packages) == {
        ("Debian:11", "libc6", "2.31-13+deb11u5", "glibc", "2.31-13+deb11u5"),
        ("Debian:11", "libtiff5", "4.2.0-1+deb11u3+b1", "tiff", "4.2.0-1+deb11u3"),
        ("Debian:11", "xserver-xorg-core", "2:1.20.11-1", "xserver-xorg-core", "2:1.20.11-1"),
    }
    assert read.os == OsRelease("debian", "11")
    assert all(p.location == str(tmp_path / "sbom.json") and p.extractor == "sbom" for p in read.packages)


def test_every_known_type_maps_to_the_matchers_ecosystem(tmp_path: Path) -> None:
    purls = {
        "pkg:pypi/Zope.Interface@5.2.0": ("PyPI", "zope-interface", "5.2.0"),
        "pkg:npm/%40babel/traverse@7.22.0": ("npm", "@babel/traverse", "7.22.0"),
        "pkg:golang/example.com/fork@v1.2.4": ("Go", "example.com/fork", "1.2.4"),
        "pkg:maven/org.apache.commons/commons-text@1.9": ("Maven", "org.apache.commons:commons-text", "1.9"),
        "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.18.4": ("Alpine:v3.18", "musl", "1.2.4-r2"),
        "pkg:rpm/redhat/openssl@3.0.7-24.el9?epoch=1&distro=rhel-9.3": (
            "Red Hat:enterprise_linux:9",
            "openssl",
            "1:3.0.7-24.el9",
        ),
        "pkg:deb/ubuntu/bash@5.1-6ubuntu1?distro=ubuntu-22.04": ("Ubuntu:22.04", "bash", "5.1-6ubuntu1"),
        "pkg:deb/ubuntu/zlib1g@1.2": ("Ubuntu", "zlib1g", "1.2"),
    }
    read = read_sbom(
        _write(tmp_path, _cyclonedx([{"type": "library", "name": "x", "purl": p} for p in purls]))
    )
    assert {(p.ecosystem, p.name, p.version) for p in read.packages} == set(purls.values())


def test_deb_without_distro_takes_the_documents_os(tmp_path: Path) -> None:
    os_component = {"type": "operating-system", "name": "debian", "version": "12.4"}
    metadata = {"component": os_component}
    document = _cyclonedx(
        [{"type": "library", "name": "b", "purl": "pkg:deb/debian/bash@5.2"}], metadata=metadata
    )
    read = read_sbom(_write(tmp_path, document))
    assert [p.ecosystem for p in read.packages] == ["Debian:12"]


def test_nested_components_and_occurrences(tmp_path: Path) -> None:
    inner = {
        "type": "library",
        "name": "qs",
        "purl": "pkg:npm/qs@6.7.0",
        "evidence": {"occurrences": [{"location": "/app/qs"}]},
    }
    outer = {"type": "library", "name": "express", "purl": "pkg:npm/express@4.17.1", "components": [inner]}
    read = read_sbom(_write(tmp_path, _cyclonedx([outer], "1.6")))
    assert {(p.name, p.location) for p in read.packages} == {
        ("express", str(tmp_path / "sbom.json")),
        ("qs", "/app/qs"),
    }


@pytest.mark.parametrize("version", ["SPDX-2.2", "SPDX-2.3"])
def test_spdx(tmp_path: Path, version: str) -> None:
    packages = [
        {
            "SPDXID": "SPDXRef-os",
            "name": "debian",
            "versionInfo": "11",
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        },
        _spdx_package(1, "pkg:deb/debian/libc6@2.31-13?upstream=glibc"),
        _spdx_package(2, "pkg:pypi/requests@2.25.1"),
        _spdx_package(3, None),
        _spdx_package(4, "pkg:generic/thing@1"),
    ]
    read = read_sbom(_write(tmp_path, _spdx(packages, version)))
    assert _identity(read.packages) == {
        ("Debian:11", "libc6", "2.31-13", "glibc", "2.31-13"),
        ("PyPI", "requests", "2.25.1", None, None),
    }
    assert read.os == OsRelease("debian", "11")
    assert read.warnings == (
        "2 SBOM components were not checked (1 of type generic, 1 without a purl): rampart matches by purl",
    )


def test_spdx_os_from_distro_qualifier(tmp_path: Path) -> None:
    read = read_sbom(
        _write(tmp_path, _spdx([_spdx_package(1, "pkg:deb/ubuntu/bash@5.1?distro=ubuntu-22.04")]))
    )
    assert read.os == OsRelease("ubuntu", "22.04")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({"bomFormat": "SPDX", "specVersion": "1.5"}, "bomFormat is not 'CycloneDX'"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.2"}, "unsupported CycloneDX specVersion '1.2'"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {}}, "'components' is not a list"),
        ({"spdxVersion": "SPDX-2.1"}, "unsupported spdxVersion 'SPDX-2.1'"),
        ({"spdxVersion": "SPDX-2.3", "packages": "x"}, "'packages' is not a list"),
        ({"name": "x"}, "neither a CycloneDX"),
    ],
)
def test_whole_document_errors(tmp_path: Path, document: Any, message: str) -> None:
    with pytest.raises(SbomError, match=message) as caught:
        read_sbom(_write(tmp_path, document))
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("data", "message"),
    [(b'{"bomFormat": "CycloneDX", "specVer', "not valid JSON"), (b"\xff\xfe{}", "not valid JSON")],
)
def test_truncated_and_binary(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    with pytest.raises(SbomError, match=message):
        read_sbom(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SbomError, match="cannot read SBOM"):
        read_sbom(tmp_path / "absent.json")


def test_huge_file_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, _cyclonedx([{"type": "library", "name": "x" * 5000}]))
    monkeypatch.setattr(sbom_document, "MAX_SBOM_BYTES", 1000)
    with pytest.raises(SbomError, match="larger than 1000 bytes"):
        read_sbom(path)


def test_deeply_nested_json_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"bomFormat": "CycloneDX", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(SbomError, match="not valid JSON"):
        read_sbom(path)


def test_deeply_nested_components_are_capped(tmp_path: Path) -> None:
    component: dict[str, Any] = {"type": "library", "name": "leaf", "purl": "pkg:npm/leaf@1"}
    for depth in range(200):
        component = {
            "type": "library",
            "name": f"n{depth}",
            "purl": f"pkg:npm/n{depth}@1",
            "components": [component],
        }
    read = read_sbom(_write(tmp_path, _cyclonedx([component])))
    assert len(read.packages) == sbom_document.MAX_DEPTH
    assert [e.message for e in read.errors] == [
        f"components: nested deeper than {sbom_document.MAX_DEPTH} levels; the deeper ones were skipped"
    ]


def test_component_count_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sbom_document, "MAX_COMPONENTS", 3)
    components = [{"type": "library", "name": f"p{n}", "purl": f"pkg:npm/p{n}@1"} for n in range(10)]
    read = read_sbom(_write(tmp_path, _cyclonedx(components)))
    assert len(read.packages) == 3
    assert [e.message for e in read.errors] == ["components: more than 3 components; the rest were not read"]


def test_bad_components_are_per_component_errors(tmp_path: Path) -> None:
    components = [
        {"type": "library", "name": "good", "purl": "pkg:npm/good@1", "bom-ref": "r1"},
        {"type": "library", "name": "dup", "purl": "pkg:npm/dup@1", "bom-ref": "r1"},
        {"type": "library", "name": "nover", "purl": "pkg:npm/nover"},
        {"type": "library", "name": "junk", "purl": "not a purl"},
        {"type": "library", "name": "ctl\u0007", "purl": "pkg:npm/evil%0Aname@1"},
        {"type": "library", "name": "ctl2", "purl": "pkg:npm/x@1\n2"},
        {"type": "library", "name": "long", "purl": "pkg:npm/" + "a" * 10_000 + "@1"},
        {"type": "library", "name": "é", "purl": "pkg:npm/%C3%A9t%C3%A9@1.0"},
        "not an object",
        {"type": "library", "name": 5, "purl": 7},
    ]
    read = read_sbom(_write(tmp_path, _cyclonedx(components)))
    assert {p.name for p in read.packages} == {"good", "été"}
    messages = [e.message for e in read.errors]
    assert messages[0] == "component 2 (dup): duplicate reference 'r1'; the first one is kept"
    assert messages[1] == "component 3 (nover): purl has no version"
    assert messages[2].startswith("component 4 (junk): invalid purl")
    assert messages[3].startswith("component 5 (ctl\\x07): control characters in name or version")
    assert messages[4] == "component 6 (ctl2): purl holds control characters"
    assert messages[5] == "component 7 (long): purl longer than 4096 characters"
    assert all("\n" not in m for m in messages) and len(messages) == 6
    assert read.warnings == (
        "1 SBOM components were not checked (1 without a purl): rampart matches by purl",
    )


def test_spdx_duplicate_ids(tmp_path: Path) -> None:
    packages = [_spdx_package(1, "pkg:npm/a@1"), _spdx_package(1, "pkg:npm/b@1")]
    read = read_sbom(_write(tmp_path, _spdx(packages)))
    assert [p.name for p in read.packages] == ["a"]
    assert [e.message for e in read.errors] == [
        "package 2 (p1): duplicate reference 'SPDXRef-1'; the first one is kept"
    ]
