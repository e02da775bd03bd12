"""image_pkg_cache: caches with content fail with path and size; apt's empty leftovers do not count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rampart.harden.checks.image_pkg_cache import CHECK, human
from rampart.harden.context import Context
from rampart.harden.model import Outcome, Status
from unit.harden.fixture_image import image_context
from unit.harden.fixture_root import build_view


def _run(tmp_path: Path, scenario: dict[str, Any], **params: Any) -> Outcome:
    return CHECK.run(params, image_context(tmp_path, scenario))


def test_a_clean_image_passes(tmp_path: Path) -> None:
    clean = {
        "files": {"var/lib/apt/lists/lock": "", "var/cache/apt/archives/lock": "", "var/cache/apk/.keep": ""},
        "dirs": {
            "var/lib/apt/lists/partial": {},
            "var/cache/apt/archives/partial": {},
            "root/.cache/pip": {},
        },
    }
    assert _run(tmp_path, clean).status is Status.PASS


def test_apt_lists_and_debs_fail_with_path_and_size(tmp_path: Path) -> None:
    files = {
        "var/lib/apt/lists/a_InRelease": "x" * 2048,
        "var/lib/apt/lists/b_Packages.lz4": "y" * 1024,
        "var/cache/apt/archives/curl.deb": "z" * 10,
        "var/cache/apt/pkgcache.bin": "p" * 5,
    }
    outcome = _run(tmp_path, {"files": files})
    assert outcome.status is Status.FAIL
    assert outcome.evidence[0] == "3.0 KiB of package manager caches in 4 places"
    assert "/var/lib/apt/lists/a_InRelease: 1 file, 2.0 KiB" in outcome.evidence
    assert "/var/cache/apt/archives/curl.deb: 1 file, 10 bytes" in outcome.evidence


def test_caches_of_other_tools_and_users_are_found(tmp_path: Path) -> None:
    files = {
        "var/cache/yum/x86_64/repomd.xml": "r",
        "home/app/.cache/pip/wheels/w": "w",
        "home/app/.npm/_cacache/content/c": "c",
        "root/.cache/yarn/v6/pkg": "y",
    }
    outcome = _run(tmp_path, {"files": files})
    assert outcome.status is Status.FAIL
    places = {line.split(":")[0] for line in outcome.evidence[1:]}
    assert places == {
        "/var/cache/yum/x86_64",
        "/home/app/.cache/pip",
        "/home/app/.npm/_cacache",
        "/root/.cache/yarn",
    }


def test_links_inside_a_cache_are_not_followed(tmp_path: Path) -> None:
    scenario = {
        "dirs": {"var/cache/apk": {}},
        "links": {"var/cache/apk/loop": "/var/cache/apk", "var/cache/apk/etc": "/etc"},
    }
    assert _run(tmp_path, scenario).status is Status.PASS


def test_max_bytes_and_custom_paths(tmp_path: Path) -> None:
    files = {"var/cache/apk/APKINDEX.tar.gz": "i" * 100, "opt/cache/blob": "b"}
    assert _run(tmp_path, {"files": files}, max_bytes=100).status is Status.PASS
    assert _run(tmp_path, {"files": files}, paths=["/opt/cache"]).status is Status.FAIL
    assert _run(tmp_path, {"files": files}, paths=["/opt/cache"], ignore=["cache"]).status is Status.PASS


def test_sizes_read_well() -> None:
    assert [human(n) for n in (0, 1023, 1024, 3 << 20)] == ["0 bytes", "1023 bytes", "1.0 KiB", "3.0 MiB"]


def test_not_an_image_is_na(tmp_path: Path) -> None:
    assert (
        CHECK.run({}, Context(build_view(tmp_path, {"files": {"var/cache/apk/x": "x"}}))).status is Status.NA
    )
