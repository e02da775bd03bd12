"""Package URLs for each ecosystem's packages."""

from __future__ import annotations

import pytest

from rampart.model import Package


@pytest.mark.parametrize(
    ("name", "version", "ecosystem", "purl"),
    [
        ("bash", "5.1-2+deb11u1", "Debian:11", "pkg:deb/debian/bash@5.1-2%2Bdeb11u1?distro=debian-11"),
        (
            "xserver-xorg-core",
            "2:1.20.11-1",
            "Debian:11",
            "pkg:deb/debian/xserver-xorg-core@2%3A1.20.11-1?distro=debian-11",
        ),
        (
            "openssl",
            "3.0.2-0ubuntu1",
            "Ubuntu:22.04",
            "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1?distro=ubuntu-22.04",
        ),
        ("apt", "2.6.1", "Debian", "pkg:deb/debian/apt@2.6.1"),
        ("jinja2", "2.10", "PyPI", "pkg:pypi/jinja2@2.10"),
        ("@babel/core", "7.0.0", "npm", "pkg:npm/%40babel/core@7.0.0"),
        ("lodash", "4.17.20", "npm", "pkg:npm/lodash@4.17.20"),
        ("github.com/gin-gonic/gin", "1.6.0", "Go", "pkg:golang/github.com/gin-gonic/gin@1.6.0"),
        ("stdlib", "1.20.3", "Go", "pkg:golang/stdlib@1.20.3"),
        ("weird name/x", "1 0", "PyPI", "pkg:pypi/weird%20name%2Fx@1%200"),
        (
            "openssl-libs",
            "1:3.0.7-27.el9",
            "Red Hat:9",
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?distro=redhat-9&epoch=1",
        ),
        ("bash", "5.2.15-3.el9", "Rocky Linux:9", "pkg:rpm/rocky/bash@5.2.15-3.el9?distro=rocky-9"),
        ("musl", "1.2.4-r2", "Alpine:v3.18", "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.18"),
    ],
)
def test_purl(name: str, version: str, ecosystem: str, purl: str) -> None:
    assert Package(name, version, ecosystem, "/x", "test").purl == purl


def test_an_rpm_epoch_survives_the_purl_round_trip() -> None:
    from packageurl import PackageURL

    from rampart.model import OsRelease
    from rampart.sbom.purls import Origin, package_from_purl

    package = Package("openssl-libs", "1:3.0.7-27.el9", "Red Hat:9", "/x", "rpm")
    parsed = package_from_purl(
        PackageURL.from_string(package.purl), OsRelease("rhel", "9"), Origin("sbom.json")
    )
    assert parsed is not None and parsed.version == "1:3.0.7-27.el9"
