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
    ],
)
def test_purl(name: str, version: str, ecosystem: str, purl: str) -> None:
    assert Package(name, version, ecosystem, "/x", "test").purl == purl
