"""``rampart scan`` end to end: a miniature Debian 11 root filesystem against the real advisory data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.rootfs import build_debian11_rootfs
from integration.cli import rampart


@pytest.fixture(scope="module")
def debian_db(vulndata_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    osv = vulndata_dir / "osv"
    done = rampart("db", "import", osv / "Debian" / "all.zip", osv / "PyPI" / "all.zip", cache_dir=cache)
    assert done.returncode == 0, done.stderr
    return cache


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rootfs")
    build_debian11_rootfs(root)
    return root


def _scan(root: Path, cache: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = rampart("scan", root, "--format", "json", *extra, cache_dir=cache)
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def _findings(document: dict[str, Any], package: str) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in document["findings"] if f["package"]["name"] == package}


def test_xorg_source_package_reports_cve_2023_1393(rootfs: Path, debian_db: Path) -> None:
    _, document = _scan(rootfs, debian_db)
    xorg = _findings(document, "xserver-xorg-core")
    finding = xorg["CVE-2023-1393"]
    assert "DSA-5380-1" in finding["advisories"]
    assert "2:1.20.11-1+deb11u6" in finding["fixed_versions"]
    evidence = {e["advisory"]: e for e in finding["evidence"]}["DSA-5380-1"]
    assert evidence["name"] == "xorg-server" and evidence["ecosystem"] == "Debian:11"
    assert document["os"]["ecosystem"] == "Debian:11"


def test_fixed_xorg_version_is_clean(tmp_path: Path, debian_db: Path) -> None:
    build_debian11_rootfs(tmp_path)
    status = tmp_path / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("2:1.20.11-1+deb11u5", "2:1.20.11-1+deb11u6"))
    _, document = _scan(tmp_path, debian_db)
    assert "CVE-2023-1393" not in _findings(document, "xserver-xorg-core")


def test_summary_counts_match_rows(rootfs: Path, debian_db: Path) -> None:
    _, document = _scan(rootfs, debian_db)
    summary = document["summary"]
    assert summary["findings"] == len(document["findings"]) > 0
    assert summary["packages"] == len(document["packages"])
    assert sum(summary["by_severity"].values()) == summary["findings"]


def test_fail_on_and_exit_code(rootfs: Path, debian_db: Path) -> None:
    code, document = _scan(rootfs, debian_db, "--exit-code", "3")
    assert code == 3 and document["findings"]
    code, _ = _scan(rootfs, debian_db, "--severity", "LOW", "--fail-on", "critical")
    assert code == 0


def test_ignore_file_hides_and_reports(rootfs: Path, debian_db: Path, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text(
        "ignore:\n"
        "  - id: DSA-5380-1\n    reason: no X server on these hosts\n"
        "  - id: CVE-2023-0494\n    reason: old\n    expires: 2020-01-01\n"
    )
    _, document = _scan(rootfs, debian_db, "--ignore-file", str(ignore))
    ignored_ids = {i["finding"]["id"] for i in document["ignored"]}
    assert "CVE-2023-1393" in ignored_ids
    assert "CVE-2023-1393" not in _findings(document, "xserver-xorg-core")
    assert any("CVE-2023-0494" in w and "expired" in w for w in document["warnings"])


def test_stale_database_warns(rootfs: Path, debian_db: Path) -> None:
    _, document = _scan(rootfs, debian_db, "--max-db-age", "0")
    assert any("old" in w.lower() or "days" in w.lower() for w in document["warnings"])


def test_table_on_request(rootfs: Path, debian_db: Path) -> None:
    done = rampart("scan", rootfs, "--format", "table", cache_dir=debian_db)
    assert done.returncode == 0, done.stderr
    assert "xserver-xorg-core" in done.stdout and "CVE-2023-1393" in done.stdout
    assert "\x1b[" not in done.stdout  # piped: no colour codes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "/nonexistent/rootfs"), "/nonexistent/rootfs"),
        (("scan", "/", "--severity", "bogus"), "unknown severity"),
        (("scan", "/", "--fail-on", "high,low"), "one severity"),
    ],
)
def test_bad_usage_is_one_line_exit_2(args: tuple[str, ...], message: str, debian_db: Path) -> None:
    done = rampart(*args, cache_dir=debian_db)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_missing_database_says_what_to_do(rootfs: Path, tmp_path: Path) -> None:
    done = rampart("scan", rootfs, cache_dir=tmp_path / "empty")
    assert done.returncode == 2
    assert "rampart db update" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_ecosystems_without_advisories_are_named(rootfs: Path, debian_db: Path) -> None:
    _, document = _scan(rootfs, debian_db)
    warnings = " ".join(document["warnings"])
    assert "npm" in warnings  # the database holds no npm advisories: its packages were not checked
    assert "Debian:11" not in warnings and "PyPI" not in warnings


def test_release_without_data_is_not_silently_clean(tmp_path: Path, debian_db: Path) -> None:
    build_debian11_rootfs(tmp_path)
    (tmp_path / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n')
    _, document = _scan(tmp_path, debian_db)
    assert not [f for f in document["findings"] if f["package"]["ecosystem"] == "Debian:12"]
    assert any("Debian:12" in w and "not checked" in w for w in document["warnings"])


def test_packages_installed_by_dpkg_are_not_judged_as_pypi(tmp_path: Path, debian_db: Path) -> None:
    build_debian11_rootfs(tmp_path)
    _, document = _scan(tmp_path, debian_db)
    managed = {p["name"] for p in document["packages"] if p["managed_by"] == "dpkg"}
    assert managed == {"pyyaml", "six"}
    assert not [f for f in document["findings"] if f["package"]["name"] in managed]
    assert any("installed by dpkg" in w for w in document["warnings"])
    # PyYAML 5.3.1 has PyPI advisories: the same version in a virtualenv is judged against them
    venv_copy = tmp_path / "opt/venv/lib/python3.9/site-packages/PyYAML-5.3.1.dist-info"
    venv_copy.mkdir()
    (venv_copy / "METADATA").write_text("Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3.1\n")
    _, document = _scan(tmp_path, debian_db)
    assert [f for f in document["findings"] if f["package"]["location"].startswith("/opt/venv")]
